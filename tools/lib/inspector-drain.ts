import WebSocket from "ws";

/**
 * `wrangler dev` proxies the runtime's inspector and turns on its Network domain, so every subrequest (each
 * provider page, each queue send) becomes an inspector event; until a DevTools client attaches, wrangler's
 * proxy keeps every event in memory. A long sync made that process grow by ~2.3 KB per record (100k people:
 * +230 MB). The drain attaches as that client, switches the Network domain off again and drops what arrives.
 * Only one client can attach: a stack started with the drain leaves no room for Chrome DevTools.
 */
export type InspectorDrain = {
  stop(): void;
  /**
   * Starts V8's sampling profiler in the runtime (the Worker and its objects share an isolate under `wrangler
   * dev`); the returned function stops it and resolves to the profile (.cpuprofile JSON, as DevTools saves).
   */
  profile(): Promise<() => Promise<unknown>>;
};

const RECONNECT_MS = 1_000;
// A runtime reload makes wrangler send Network.enable again; the drain answers the first event that follows.
const DISABLE_EVERY_MS = 2_000;

export function drainInspector(port: number): InspectorDrain {
  let stopped = false;
  let socket: WebSocket | null = null;
  let retry: NodeJS.Timeout | null = null;
  let lastDisable = 0;
  let nextId = 1;
  const replies = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();

  const call = (method: string, params: Record<string, unknown> = {}): Promise<unknown> =>
    new Promise((resolve, reject) => {
      if (socket?.readyState !== WebSocket.OPEN) {
        reject(new Error(`inspector not attached for ${method}`));
        return;
      }
      const id = nextId++;
      replies.set(id, { resolve, reject });
      socket.send(JSON.stringify({ id, method, params }));
    });

  const disableNetwork = () => {
    if (socket?.readyState !== WebSocket.OPEN) return;
    lastDisable = Date.now();
    socket.send(JSON.stringify({ id: nextId++, method: "Network.disable" }));
  };

  const connect = () => {
    if (stopped) return;
    // No Origin and no User-Agent is how editors' debuggers connect, which wrangler accepts.
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false });
    socket = ws;
    ws.on("open", disableNetwork);
    ws.on("message", (data) => {
      if (replies.size > 0 && (data as Buffer).toString("utf8", 0, 8).startsWith('{"id":')) {
        const reply = JSON.parse((data as Buffer).toString("utf8")) as {
          id: number;
          result?: unknown;
          error?: { message: string };
        };
        const waiting = replies.get(reply.id);
        if (waiting) {
          replies.delete(reply.id);
          if (reply.error) waiting.reject(new Error(reply.error.message));
          else waiting.resolve(reply.result);
          return;
        }
      }
      if (Date.now() - lastDisable < DISABLE_EVERY_MS) return;
      if ((data as Buffer).toString("utf8", 0, 60).includes('"method":"Network.')) disableNetwork();
    });
    ws.on("error", () => {});
    ws.on("close", () => {
      if (socket === ws) socket = null;
      // A call's answer can't arrive on the next socket: fail the waiting calls instead of leaving them pending.
      for (const waiting of replies.values()) waiting.reject(new Error("inspector connection closed"));
      replies.clear();
      if (!stopped) retry = setTimeout(connect, RECONNECT_MS);
    });
  };
  connect();

  return {
    async profile() {
      await call("Profiler.enable");
      await call("Profiler.setSamplingInterval", { interval: 1000 });
      await call("Profiler.start");
      return async () => ((await call("Profiler.stop")) as { profile: unknown }).profile;
    },
    stop() {
      stopped = true;
      if (retry) clearTimeout(retry);
      socket?.terminate();
    },
  };
}

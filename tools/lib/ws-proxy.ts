import net from "node:net";
import { WebSocketServer } from "ws";

export type WsProxyHandle = { port: number; close(): Promise<void> };

/**
 * The Neon driver speaks the Postgres wire protocol over a WebSocket. Neon's edge terminates that;
 * locally this proxy does, so the Worker uses the same driver against any TCP Postgres.
 * Only loopback targets are accepted: this is a development tool, not an open relay.
 */
export function startWsProxy(port = 0): Promise<WsProxyHandle> {
  const wss = new WebSocketServer({ port, host: "127.0.0.1" });
  wss.on("connection", (ws, req) => {
    const target = new URL(req.url ?? "/", "http://localhost").searchParams.get("address") ?? "";
    const [host, portText] = target.split(":");
    if (!host || !portText || !["127.0.0.1", "localhost", "::1"].includes(host)) {
      ws.close(1008, "address must be a loopback host:port");
      return;
    }
    const socket = net.connect({ host, port: Number(portText) });
    socket.setNoDelay(true);
    socket.on("data", (chunk) => ws.send(chunk));
    socket.on("close", () => ws.close());
    socket.on("error", () => ws.close());
    ws.on("message", (data) => socket.write(data as Buffer));
    ws.on("close", () => socket.destroy());
    ws.on("error", () => socket.destroy());
  });
  return new Promise((resolve, reject) => {
    wss.once("error", reject);
    wss.once("listening", () => {
      const address = wss.address();
      resolve({
        port: typeof address === "object" && address ? address.port : port,
        close: () =>
          new Promise<void>((done) => {
            for (const client of wss.clients) client.terminate();
            wss.close(() => done());
          }),
      });
    });
  });
}

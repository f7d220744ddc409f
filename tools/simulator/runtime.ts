// What the simulator's background work needs from its host: a clock, fetch, the
// public base URL, and timers it can cancel all at once on close(). Web-standard
// APIs only, so it runs unchanged on Node, Bun, Deno and workerd.

export interface SimRuntime {
  /** sim clock, epoch ms */
  now(): number;
  fetch: typeof fetch;
  /** absolute base URL the simulator is reachable at (no trailing slash) */
  baseUrl(): string;
  /** setTimeout that close() cancels */
  setTimer(fn: () => void, ms: number): void;
  /** resolves after ms, or early when the signal aborts or the simulator closes */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export class Timers {
  private handles = new Set<ReturnType<typeof setTimeout>>();
  private wakers = new Set<() => void>();
  closed = false;

  set(fn: () => void, ms: number): void {
    if (this.closed) return;
    const h = setTimeout(() => {
      this.handles.delete(h);
      fn();
    }, ms);
    this.handles.add(h);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (ms <= 0 || this.closed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      let h: ReturnType<typeof setTimeout> | undefined;
      const done = () => {
        if (h !== undefined) {
          clearTimeout(h);
          this.handles.delete(h);
        }
        this.wakers.delete(done);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      h = setTimeout(done, ms);
      this.handles.add(h);
      this.wakers.add(done);
      signal?.addEventListener("abort", done, { once: true });
    });
  }

  close(): void {
    this.closed = true;
    for (const h of this.handles) clearTimeout(h);
    this.handles.clear();
    for (const w of [...this.wakers]) w();
  }
}

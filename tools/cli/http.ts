import type { Target } from "./config";
import { ApiError, CliError, EXIT, printable } from "./errors";

const REQUEST_TIMEOUT_MS = 30_000;

/** The admin API over fetch. The token goes in the Authorization header only and is never part of an error. */
export class Api {
  constructor(private target: Target) {}

  get url(): string {
    return this.target.url;
  }

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.target.url}${path}`, {
        method,
        headers: {
          Authorization: `Bearer ${this.target.token}`,
          Accept: "application/json",
          ...(body === undefined ? {} : { "Content-Type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      const why =
        error instanceof Error && error.name === "TimeoutError"
          ? `no answer within ${REQUEST_TIMEOUT_MS / 1000} s`
          : error instanceof Error && error.cause instanceof Error
            ? error.cause.message
            : String(error);
      throw new CliError(EXIT.server, `cannot reach ${this.target.url}: ${printable(why, 200)}`);
    }
    const text = await res.text().catch(() => "");
    let parsed: unknown = null;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
    }
    if (!res.ok) {
      const err = (parsed as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
      const code = typeof err?.code === "string" ? err.code : `http_${res.status}`;
      const message = typeof err?.message === "string" ? err.message : res.statusText || "request failed";
      throw new ApiError(res.status, printable(code, 100), printable(message));
    }
    if (parsed === undefined) {
      throw new CliError(
        EXIT.server,
        `${method} ${path}: the server answered ${res.status} with a body that is not JSON`,
      );
    }
    return parsed as T;
  }
}

/** One path segment, percent-encoded: ids come from the command line. */
export const seg = (s: string) => encodeURIComponent(s);

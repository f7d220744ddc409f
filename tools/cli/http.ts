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
    const parsed = await this.request(method, path, body, "application/json");
    if (parsed.json === undefined) {
      throw new CliError(
        EXIT.server,
        `${method} ${path}: the server answered ${parsed.status} with a body that is not JSON`,
      );
    }
    return parsed.json as T;
  }

  /** A GET whose answer is text (the Prometheus scrape); errors as for call(). */
  async text(path: string): Promise<string> {
    return (await this.request("GET", path, undefined, "text/plain")).text;
  }

  private async request(
    method: string,
    path: string,
    body: unknown,
    accept: string,
  ): Promise<{ status: number; text: string; json: unknown }> {
    let res: Response;
    try {
      res = await fetch(`${this.target.url}${path}`, {
        method,
        headers: {
          Authorization: `Bearer ${this.target.token}`,
          Accept: accept,
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
    return { status: res.status, text, json: parsed };
  }
}

/** One path segment, percent-encoded: ids come from the command line. */
export const seg = (s: string) => encodeURIComponent(s);

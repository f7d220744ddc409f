// Response helpers shared by the Dotloop routes: the published envelopes and the (chosen)
// error body.

export type Json = Record<string, unknown>;

/** `{"data": {...}}` — a single record (published envelope). */
export function one(data: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return json({ data }, status, headers);
}

/** `{"meta": {"total": n}, "data": [...]}` — a list (published envelope). */
export function list(data: unknown[], total: number, headers: Record<string, string> = {}): Response {
  return json({ meta: { total }, data }, 200, headers);
}

/** Errors (choice: the official error body is not published): `{status, error, message}`. */
export function apiError(status: number, message: string, headers: Record<string, string> = {}): Response {
  const reasons: Record<number, string> = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
  };
  return json({ status, error: reasons[status] ?? "Error", message }, status, headers);
}

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

// Lofty ids are JSON integers, some beyond 2^53: the simulator keeps them as digit strings (or bigints) and
// writes them as bare numbers, so a client that parses with plain JSON.parse rounds them, as it would live.

const MARK = "\u0000int:";

/** A value written as the bare integer it holds (digits), not as a string. */
export const int = (digits: string | bigint | number): string => `${MARK}${String(digits)}`;

export function stringify(value: unknown): string {
  return JSON.stringify(value).replace(/"\\u0000int:(-?\d+)"/g, "$1");
}

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

// Whether an error means Postgres could not be reached (down, restarting, the network or the local proxy in
// between), as opposed to Postgres refusing what was sent. Retry bounds count only the second kind: an outage
// is waited out, never turned into parked records or events.

/**
 * SQLSTATEs of a server that is going away or not accepting connections yet: class 08 (connection exception),
 * 57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now (starting up, recovering).
 */
const UNREACHABLE_CODE = /^(08[0-9A-Z]{3}|57P0[123])$/;

/**
 * What the drivers say when the socket never opened or dropped: the Neon driver in workerd ("Network
 * connection lost", "Connection terminated unexpectedly"), node-postgres, the runtimes' fetch and WebSocket.
 */
const UNREACHABLE_TEXT =
  /connection terminated|network connection lost|connection refused|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|fetch failed|websocket|socket hang up|not queryable|timeout exceeded when trying to connect|the database system is (starting up|shutting down|in recovery mode)|terminating connection due to administrator command/i;

export function isDatabaseUnreachable(error: unknown): boolean {
  let current: unknown = error;
  // Drivers and ORMs wrap: DrizzleQueryError → Error, or an ErrorEvent carrying the socket's error.
  for (let depth = 0; depth < 6 && current !== null && current !== undefined; depth++) {
    if (typeof current === "string") return UNREACHABLE_TEXT.test(current);
    if (typeof current !== "object") return false;
    const {
      code,
      message,
      cause,
      error: inner,
    } = current as {
      code?: unknown;
      message?: unknown;
      cause?: unknown;
      error?: unknown;
    };
    if (typeof code === "string") {
      if (UNREACHABLE_CODE.test(code)) return true;
      // Any other SQLSTATE is the server answering: it was reachable.
      if (/^[0-9A-Z]{5}$/.test(code)) return false;
      if (UNREACHABLE_TEXT.test(code)) return true;
    }
    // A wrapper's own message quotes the statement; only the innermost messages describe the socket.
    if (typeof message === "string" && !/^Failed query/i.test(message) && UNREACHABLE_TEXT.test(message))
      return true;
    current = cause ?? inner;
  }
  return false;
}

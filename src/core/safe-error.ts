// The one place an error becomes text for a log line, a stored error_message or a response. Database errors
// are the danger: an ORM wrapper's message embeds the SQL and its parameters (record payloads, credentials),
// and Postgres quotes the offending input in many of its own messages.

export type SafeError = {
  /** The SQLSTATE when a database error is behind it (possibly wrapped), else null. */
  code: string | null;
  /** Text that names what failed, never the values involved. */
  message: string;
};

const MAX_MESSAGE = 500;
const SQLSTATE = /^[0-9A-Z]{5}$/;
/** The point where a wrapper starts quoting the statement or its parameters. */
const QUERY_TEXT = /(Failed query|params:|\bquery:)/i;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what a log line must not carry
const CONTROL = /[\u0000-\u001f\u007f]/g;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
/** A value quoted after a colon or comma ("invalid input syntax for type integer: \"abc\""). */
const QUOTED_VALUE = /([:,])\s*"(?:[^"\\]|\\.)*"?/gs;

/** SQLSTATE and a redacted message of the database error behind `error`, or the redacted error itself. */
export function sanitizeError(error: unknown): SafeError {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && SQLSTATE.test(code)) {
      return { code, message: redact(messageOf(current)) || "database error" };
    }
    current = (current as { cause?: unknown }).cause;
  }
  const root = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  return { code: null, message: redact(messageOf(root)) || "error" };
}

/** sanitizeError's message, for log lines. */
export function safeErrorMessage(error: unknown): string {
  return sanitizeError(error).message;
}

/** SQLSTATE class 22: Postgres refused a value as input (bad encoding, out-of-range date, NUL). */
export function isDataException(code: string | null): boolean {
  return code?.startsWith("22") ?? false;
}

function messageOf(value: unknown): string {
  // The engine's JSON errors quote the text they failed on, a payload with its own unescaped quotes.
  if (value instanceof SyntaxError) return "malformed JSON";
  if (value instanceof Error) return value.message;
  if (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { message?: unknown }).message === "string"
  )
    return (value as { message: string }).message;
  return typeof value === "string" ? value : String(value);
}

function redact(message: string): string {
  const cut = QUERY_TEXT.exec(message);
  if (cut?.index === 0) return "database error";
  const head = cut ? message.slice(0, cut.index) : message;
  return head
    .slice(0, MAX_MESSAGE)
    .replace(QUOTED_VALUE, '$1 "…"')
    .replace(CONTROL, " ")
    .replace(LONE_SURROGATE, "\ufffd")
    .trim();
}

/**
 * Exit codes, documented in the README: scripts branch on them, so each kind of failure keeps its own.
 * 1 is a run that ended badly (sync --follow), not a failure of the CLI itself.
 */
export const EXIT = {
  ok: 0,
  runFailed: 1,
  usage: 2,
  auth: 3,
  notFound: 4,
  server: 5,
  rejected: 6,
  followTimeout: 7,
} as const;

/** A failure the CLI reports as one line on stderr and turns into an exit code. */
export class CliError extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

export const usageError = (message: string) => new CliError(EXIT.usage, message);

/** The API's own `{error: {code, message}}`, kept as the API said it, with the HTTP status. */
export class ApiError extends CliError {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly apiMessage: string,
  ) {
    super(exitCodeForStatus(status), `${code}: ${apiMessage} (HTTP ${status})`);
  }
}

export function exitCodeForStatus(status: number): number {
  if (status === 401 || status === 403) return EXIT.auth;
  if (status === 404) return EXIT.notFound;
  if (status >= 500) return EXIT.server;
  return EXIT.rejected;
}

/** Text from a server or a user, made safe to print on a terminal (no escape sequences), bounded. */
export function printable(text: string, max = 500): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point
  const clean = text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, "?");
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

// The one error shape HTTP handlers turn into a JSON response; anything else is a 500.

export type AppErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 414 | 415 | 422 | 429 | 502 | 503;

export class AppError extends Error {
  constructor(
    public status: AppErrorStatus,
    public code: string,
    message: string,
  ) {
    super(message);
    this.name = "AppError";
  }
}

export function errorBody(code: string, message: string): { error: { code: string; message: string } } {
  return { error: { code, message } };
}

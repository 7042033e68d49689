import { ERRORS, type ErrorKey } from "./codes.js";

export { ERRORS, CLOSE, type ErrorKey, type ErrorCode } from "./codes.js";

/** A failure with a stable code from the registry; keeps the original `cause`. */
export class AppError extends Error {
  readonly key: ErrorKey;
  readonly status: number;
  readonly code: string;
  readonly details: unknown;
  readonly retryAfterS: number | undefined;

  constructor(key: ErrorKey, opts: { message?: string; details?: unknown; cause?: unknown; retryAfterS?: number } = {}) {
    const def = ERRORS[key];
    super(opts.message ?? def.message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = "AppError";
    this.key = key;
    this.status = def.status;
    this.code = def.code;
    this.details = opts.details;
    this.retryAfterS = opts.retryAfterS;
  }
}

export const isAppError = (e: unknown): e is AppError => e instanceof AppError;

export function errorBody(err: AppError, requestId: string): string {
  const error: Record<string, unknown> = { code: err.code, message: err.message, requestId };
  if (err.details !== undefined) error.details = err.details;
  return JSON.stringify({ error });
}

/** Anything thrown becomes an AppError; unknown failures become `internal` without leaking their text. */
export function toAppError(e: unknown): AppError {
  if (isAppError(e)) return e;
  return new AppError("ERR_INTERNAL", { cause: e });
}

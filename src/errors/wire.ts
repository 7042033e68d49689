import { AppError, isAppError, type ErrorKey } from "./index.js";
import { ERRORS } from "./codes.js";

/** An AppError as plain data, to cross a MessagePort or a NATS reply. */
export interface WireError {
  readonly key: string;
  readonly message: string;
  readonly details?: unknown;
  readonly retryAfterS?: number;
}

export function toWire(e: unknown, fallback: ErrorKey = "ERR_INTERNAL"): WireError {
  if (isAppError(e)) return { key: e.key, message: e.message, details: e.details, ...(e.retryAfterS !== undefined ? { retryAfterS: e.retryAfterS } : {}) };
  const err = new AppError(fallback);
  return { key: err.key, message: err.message };
}

export function fromWire(w: WireError): AppError {
  const key = (w.key in ERRORS ? w.key : "ERR_INTERNAL") as ErrorKey;
  return new AppError(key, { message: w.message, details: w.details, ...(w.retryAfterS !== undefined ? { retryAfterS: w.retryAfterS } : {}) });
}

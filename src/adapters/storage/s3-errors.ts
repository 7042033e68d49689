import { AppError } from "../../errors/index.js";

// SDK failures → our registry. The rule: anything that says "the store is not
// usable right now" is ERR_NOT_READY (503 + Retry-After) so a client retries;
// the rest is ERR_INTERNAL. (A refused create-only write is ERR_CONFLICT, decided
// by the caller with isPreconditionFailure, since only a create can mean that.)
// The SDK error always stays as `cause` for the logs.

const NETWORK_CODES = new Set([
  "ECONNREFUSED", "ECONNRESET", "ECONNABORTED", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH",
  "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN", "ERR_SOCKET_CONNECTION_TIMEOUT",
]);
const NETWORK_NAMES = new Set(["TimeoutError", "RequestTimeout", "AbortError"]);
// Credentials or bucket the operator configured are wrong: not a client error,
// and retrying soon will not help much, hence the longer Retry-After.
const MISCONFIGURED = new Set(["InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "NoSuchBucket"]);

interface SdkErrorShape {
  name?: unknown;
  code?: unknown;
  cause?: unknown;
  $metadata?: { httpStatusCode?: number };
}

const shape = (e: unknown): SdkErrorShape => (typeof e === "object" && e !== null ? (e as SdkErrorShape) : {});

export const httpStatusOf = (e: unknown): number | undefined => shape(e).$metadata?.httpStatusCode;
export const errorNameOf = (e: unknown): string => String(shape(e).name ?? "");

/** True for failures below HTTP: refused or reset connections, DNS, timeouts (also when wrapped as `cause`). */
export function isNetworkError(e: unknown): boolean {
  for (let cur: unknown = e, depth = 0; cur !== undefined && depth < 4; depth++) {
    const s = shape(cur);
    if (typeof s.code === "string" && NETWORK_CODES.has(s.code)) return true;
    if (typeof s.name === "string" && NETWORK_NAMES.has(s.name)) return true;
    cur = s.cause;
  }
  return false;
}

/** A create-only write (`If-None-Match: *`) lost: 412, or 409 while a concurrent write is in flight. */
export function isPreconditionFailure(e: unknown): boolean {
  const status = httpStatusOf(e);
  const name = errorNameOf(e);
  return status === 412 || name === "PreconditionFailed" || (status === 409 && name === "ConditionalRequestConflict");
}

export function translateS3Error(e: unknown, op: string): AppError {
  if (e instanceof AppError) return e;
  const status = httpStatusOf(e);
  const name = errorNameOf(e);
  if (isNetworkError(e) || (status !== undefined && status >= 500) || name === "SlowDown") {
    return new AppError("ERR_NOT_READY", { message: `Object store unavailable (${op})`, retryAfterS: 2, cause: e });
  }
  if (MISCONFIGURED.has(name) || status === 403) {
    return new AppError("ERR_NOT_READY", { message: `Object store refused ${op}: check bucket and credentials`, retryAfterS: 30, cause: e });
  }
  return new AppError("ERR_INTERNAL", { message: `Object store ${op} failed`, cause: e });
}

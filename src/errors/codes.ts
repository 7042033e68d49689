// The one registry of error codes (SPEC §3). The README's error table is
// checked against this object by test/unit/errors.test.ts, so a code added
// here without documentation (or the reverse) fails the build.

export const ERRORS = {
  ERR_INVALID_REQUEST: { status: 400, code: "invalid_request", message: "The request does not match its schema" },
  ERR_INVALID_JSON: { status: 400, code: "invalid_json", message: "The body is not valid JSON" },
  ERR_LIMIT_EXCEEDED: { status: 400, code: "limit_exceeded", message: "A per-connection limit was reached" },
  ERR_UNAUTHENTICATED: { status: 401, code: "unauthenticated", message: "A valid bearer token is required" },
  ERR_FORBIDDEN_TENANT: { status: 403, code: "forbidden_tenant", message: "The token is not a member of the acting tenant" },
  ERR_CONTEXT_MISMATCH: { status: 403, code: "context_mismatch", message: "tenant_id differs from the acting tenant" },
  ERR_FORBIDDEN_ROLE: { status: 403, code: "forbidden_role", message: "This route needs the admin role" },
  ERR_FORBIDDEN_ORIGIN: { status: 403, code: "forbidden_origin", message: "The Origin is not allowed" },
  ERR_GATE_BLOCKED: { status: 403, code: "gate_blocked", message: "The GateChain refused the action" },
  ERR_NOT_FOUND: { status: 404, code: "not_found", message: "Not found" },
  ERR_CONFLICT: { status: 409, code: "conflict", message: "The idempotency key was used with a different body" },
  ERR_PAYLOAD_TOO_LARGE: { status: 413, code: "payload_too_large", message: "The body is over the configured limit" },
  ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, code: "unsupported_media_type", message: "Bodies must be application/json" },
  ERR_RATE_LIMITED: { status: 429, code: "rate_limited", message: "Too many requests" },
  ERR_INTERNAL: { status: 500, code: "internal", message: "Internal error" },
  ERR_NOT_READY: { status: 503, code: "not_ready", message: "A dependency is unavailable; retry later" },
  ERR_DRAINING: { status: 503, code: "draining", message: "The node is shutting down; retry on another node" },
  ERR_TIMEOUT: { status: 504, code: "timeout", message: "The request did not finish within its deadline" },
} as const;

export type ErrorKey = keyof typeof ERRORS;
export type ErrorCode = (typeof ERRORS)[ErrorKey]["code"];

/** WebSocket close codes (SPEC §5): 4000 + HTTP status, with whether a client should reconnect. */
export const CLOSE = {
  NORMAL: { code: 1000, reason: "normal", retry: false },
  DRAINING: { code: 1001, reason: "server draining", retry: true },
  TOO_LARGE: { code: 1009, reason: "frame too large", retry: false },
  TOKEN_EXPIRED: { code: 4401, reason: "token expired", retry: true },
  SLOW_CONSUMER: { code: 4408, reason: "consumer too slow", retry: true },
  RATE_LIMITED: { code: 4429, reason: "rate limited", retry: true },
} as const;

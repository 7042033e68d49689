import { AppError, errorBody } from "../../errors/index.js";
import type { Outcome } from "./pipeline.js";
import type { HttpRequest } from "./types.js";

// Browsers send a preflight (OPTIONS, no Authorization) before any request that
// carries a bearer token, so without an answer here CORS_ORIGINS could never
// work: the preflight would hit auth and get 401. Only exact origins from
// CORS_ORIGINS are allowed (SPEC §7); the allow-origin header itself is written
// with every response by the HTTP front.

const ALLOW_METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE";
const ALLOW_HEADERS = "authorization, content-type, x-tenant-id, x-request-id, last-event-id";

/** The answer to a CORS preflight, or undefined when the request is not one. */
export function preflight(req: HttpRequest, corsOrigins: readonly string[]): Outcome | undefined {
  const origin = req.headers.origin;
  if (req.method !== "OPTIONS" || !origin || !req.headers["access-control-request-method"]) return undefined;
  if (!corsOrigins.includes(origin)) {
    const err = new AppError("ERR_FORBIDDEN_ORIGIN");
    return { status: err.status, headers: { "content-type": "application/json; charset=utf-8" }, body: errorBody(err, req.requestId), routeLabel: "preflight" };
  }
  return {
    status: 204,
    headers: { "access-control-allow-methods": ALLOW_METHODS, "access-control-allow-headers": ALLOW_HEADERS, "access-control-max-age": "600" },
    body: undefined,
    routeLabel: "preflight",
  };
}

import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { redactUrl } from "../../observability/logger.js";
import type { Metrics } from "../../observability/metrics.js";
import type { TemplatedApp, UwsRequest, UwsResponse } from "../uws.js";
import type { BodyResult } from "./body.js";
import { preflight } from "./cors.js";
import { runPipeline, type Outcome, type PipelineDeps } from "./pipeline.js";
import type { HttpRequest } from "./types.js";

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const STATUS_TEXT: Record<number, string> = {
  200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 400: "Bad Request", 401: "Unauthorized",
  403: "Forbidden", 404: "Not Found", 409: "Conflict", 413: "Payload Too Large", 415: "Unsupported Media Type",
  429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable", 504: "Gateway Timeout",
};
const BODY_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

export interface HttpFrontDeps extends PipelineDeps {
  readonly metrics: Metrics;
  readonly maxBodyBytes: number;
  readonly corsOrigins: readonly string[];
}

/**
 * Mounts the HTTP pipeline on a uWS app, with uWS discipline: everything is
 * copied out of `req` synchronously, `onAborted` is attached before any async
 * work, and `res` is never touched after an abort.
 */
export function mountHttp(app: TemplatedApp, deps: HttpFrontDeps, log: Logger): { inflight(): number } {
  let inflight = 0;
  app.any("/*", (res, req) => {
    inflight++;
    const started = process.hrtime.bigint();
    const state = { aborted: false, onAbort: (): void => {} };
    res.onAborted(() => {
      state.aborted = true;
      state.onAbort();
    });
    const request = copyRequest(req);
    // Made only when something is logged: a pino child per request serialises its bindings,
    // and at the default level a request that succeeds logs nothing.
    let child: Logger | undefined;
    const requestLog = (): Logger => (child ??= log.child({ reqId: request.requestId, method: request.method, url: urlForLog(request) }));
    const cors = preflight(request, deps.corsOrigins);
    const body = readBody(res, request, deps.maxBodyBytes, state);
    void (cors ? Promise.resolve(cors) : runPipeline(deps, request, body)).finally(() => inflight--).then(
      (outcome) => {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        deps.metrics.httpRequests.inc({ route: outcome.routeLabel, method: request.method, status: outcome.status });
        deps.metrics.httpDuration.observe({ route: outcome.routeLabel, method: request.method }, seconds);
        if (state.aborted) {
          requestLog().info({ route: outcome.routeLabel }, "client aborted the request");
          return;
        }
        write(res, outcome, request, deps.corsOrigins, deps.isDraining());
        if (log.isLevelEnabled("debug")) requestLog().debug({ status: outcome.status, ms: Math.round(seconds * 1e4) / 10 }, "request done");
      },
      (e: unknown) => requestLog().error({ err: e }, "pipeline crashed"),
    );
  });
  return { inflight: () => inflight };
}

function copyRequest(req: UwsRequest): HttpRequest {
  const headers: Record<string, string> = {};
  req.forEach((k, v) => {
    headers[k] = v;
  });
  const method = req.getCaseSensitiveMethod().toUpperCase();
  const path = req.getUrl();
  const query = new URLSearchParams(req.getQuery() ?? "");
  const given = headers["x-request-id"];
  const requestId = given && REQUEST_ID.test(given) ? given : randomUUID();
  return { method, path, query, headers, requestId };
}

/** The request's URL with its secrets redacted, as logs show it. */
const urlForLog = (request: HttpRequest): string => redactUrl(request.query.size > 0 ? `${request.path}?${request.query.toString()}` : request.path);

function readBody(res: UwsResponse, request: HttpRequest, max: number, state: { onAbort: () => void }): Promise<BodyResult> {
  if (!BODY_METHODS.has(request.method)) return Promise.resolve({ kind: "none" });
  const declared = Number(request.headers["content-length"] ?? "NaN");
  return new Promise((resolve) => {
    // A client that vanishes mid-body must not leave the pipeline waiting forever.
    state.onAbort = () => resolve({ kind: "aborted" });
    // Refuse on the declared length before buffering a byte of it.
    let tooLarge = Number.isFinite(declared) && declared > max;
    const chunks: Buffer[] = [];
    let size = 0;
    res.onData((chunk, isLast) => {
      if (!tooLarge) {
        size += chunk.byteLength;
        if (size > max) {
          tooLarge = true;
          chunks.length = 0;
        } else chunks.push(Buffer.from(chunk.slice(0))); // uWS reuses the chunk's memory after this callback
      }
      if (isLast) resolve(tooLarge ? { kind: "too_large" } : { kind: "ok", bytes: Buffer.concat(chunks, size) });
    });
    if (tooLarge) resolve({ kind: "too_large" });
  });
}

function write(res: UwsResponse, o: Outcome, request: HttpRequest, corsOrigins: readonly string[], draining: boolean): void {
  res.cork(() => {
    res.writeStatus(`${o.status} ${STATUS_TEXT[o.status] ?? "Status"}`);
    res.writeHeader("x-request-id", request.requestId);
    for (const [k, v] of Object.entries(o.headers)) res.writeHeader(k, v);
    const origin = request.headers.origin;
    if (origin && corsOrigins.includes(origin)) {
      res.writeHeader("access-control-allow-origin", origin);
      res.writeHeader("vary", "Origin");
      res.writeHeader("access-control-expose-headers", "x-request-id, retry-after");
    }
    if (draining) res.writeHeader("connection", "close");
    if (o.body === undefined) res.endWithoutBody();
    // HEAD answers GET's headers but never a body (a keep-alive client would read it as the next response).
    // Without a length: uWS closes the connection after endWithoutBody(n) when n > 0.
    else if (request.method === "HEAD") res.endWithoutBody();
    else res.end(o.body);
  });
}

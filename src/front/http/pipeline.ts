import type { Logger } from "pino";
import { bearerToken, type TokenVerifier } from "../../auth/verifier.js";
import { actingTenant, isAdmin, type Principal } from "../../auth/principal.js";
import { AppError, errorBody, toAppError } from "../../errors/index.js";
import { isJsonContentType, parseJsonBody, type BodyResult } from "./body.js";
import type { Router } from "./router.js";
import { isValidId } from "../../registry/ids.js";
import type { HttpReply, HttpRequest, Route, RouteContext } from "./types.js";

/** Reserved tenant for audit events of callers whose tenant was never established. */
export const ANONYMOUS_TENANT = "_anonymous";

export interface AuditEntry {
  readonly requestId: string;
  readonly tenantId: string | null;
  readonly claimedTenant: string | null;
  readonly sub: string | null;
  readonly method: string;
  readonly route: string;
  readonly status: number;
  readonly code: string | null;
}

export interface PipelineDeps {
  readonly router: Router;
  readonly verify: TokenVerifier;
  readonly log: Logger;
  readonly timeoutMs: number;
  readonly isDraining: () => boolean;
  /** Mutating requests and every 401/403 are reported here (the audit trail). */
  readonly audit?: (entry: AuditEntry) => void;
}

export interface Outcome {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string | undefined;
  /** Route pattern for metrics labels (bounded cardinality). */
  readonly routeLabel: string;
}

const JSON_HEADERS = { "content-type": "application/json; charset=utf-8" };

/**
 * The order every request goes through: match → authenticate → acting tenant
 * → role → body → handler, each refusing with its SPEC §3 code. Unknown paths
 * are 404 without auth, but a mounted path always authenticates first.
 */
export async function runPipeline(deps: PipelineDeps, req: HttpRequest, body: Promise<BodyResult>): Promise<Outcome> {
  // One deadline for the whole request: a client trickling its body must not hold a slot until the socket idles out.
  const deadlineAt = Date.now() + deps.timeoutMs;
  const match = deps.router.match(req.method, req.path);
  const routeLabel = match.kind === "found" ? match.route.pattern : match.kind === "method_not_mounted" ? match.pattern : "unmatched";
  let principal: Principal | undefined;
  let tenantId: string | null = null;
  try {
    if (match.kind === "none") throw new AppError("ERR_NOT_FOUND");
    const access = match.kind === "found" ? match.route.access : "user";
    if (access !== "public") {
      if (deps.isDraining()) throw new AppError("ERR_DRAINING", { retryAfterS: 1 });
      const token = bearerToken(req.headers.authorization);
      if (!token) throw new AppError("ERR_UNAUTHENTICATED");
      principal = await deps.verify(token);
    }
    if (match.kind === "method_not_mounted") throw new AppError("ERR_NOT_FOUND");
    const route = match.route;
    if (access === "tenant" || access === "admin") {
      tenantId = actingTenant(principal as Principal, req.headers["x-tenant-id"]);
      if (access === "admin" && !isAdmin(principal as Principal)) throw new AppError("ERR_FORBIDDEN_ROLE");
    }
    const parsed = await readBody(route, req, await withDeadline(body, deadlineAt - Date.now()));
    const ctx: RouteContext = { ...req, params: match.params, principal: principal as Principal, tenantId: tenantId ?? "", body: parsed };
    const reply = await withDeadline(Promise.resolve(route.handle(ctx)), deadlineAt - Date.now());
    const outcome = toOutcome(reply, req.requestId, routeLabel);
    report(deps, req, routeLabel, principal, tenantId, outcome.status, null);
    return outcome;
  } catch (e) {
    const err = toAppError(e);
    if (err.status >= 500) deps.log.error({ err: e, reqId: req.requestId, route: routeLabel }, "request failed");
    const headers: Record<string, string> = { ...JSON_HEADERS };
    if (err.status === 401) headers["www-authenticate"] = 'Bearer realm="switchyard"';
    if (err.retryAfterS !== undefined) headers["retry-after"] = String(Math.max(1, Math.ceil(err.retryAfterS)));
    report(deps, req, routeLabel, principal, tenantId, err.status, err.code);
    return { status: err.status, headers, body: errorBody(err, req.requestId), routeLabel };
  }
}

async function readBody(route: Route, req: HttpRequest, body: BodyResult): Promise<unknown> {
  if (body.kind === "too_large") throw new AppError("ERR_PAYLOAD_TOO_LARGE");
  // Nobody will read the answer, and running e.g. POST /chat/threads on `{}` would create a thread.
  if (body.kind === "aborted") throw new AppError("ERR_INVALID_REQUEST", { message: "The client aborted the request body" });
  if (!route.body) return undefined;
  if (body.kind === "none" || body.bytes.length === 0) return {};
  if (!isJsonContentType(req.headers["content-type"])) throw new AppError("ERR_UNSUPPORTED_MEDIA_TYPE");
  return parseJsonBody(body.bytes);
}

function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new AppError("ERR_TIMEOUT", { retryAfterS: 1 })), ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

function toOutcome(reply: HttpReply, requestId: string, routeLabel: string): Outcome {
  const headers: Record<string, string> = { ...(reply.headers ?? {}) };
  if (reply.body === undefined) return { status: reply.status, headers, body: undefined, routeLabel };
  if (typeof reply.body === "string" && headers["content-type"]) return { status: reply.status, headers, body: reply.body, routeLabel };
  return { status: reply.status, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(reply.body), routeLabel };
}

const MUTATING = new Set(["POST", "PUT", "PATCH", "DELETE"]);

function report(deps: PipelineDeps, req: HttpRequest, route: string, p: Principal | undefined, tenantId: string | null, status: number, code: string | null): void {
  if (!deps.audit) return;
  if (!(status === 401 || status === 403 || (MUTATING.has(req.method) && status < 400))) return;
  // A refusal before the acting tenant is established (401, forbidden_tenant) is not written into
  // the tenant the caller named — anyone could fill another tenant's trail — but into the reserved
  // ANONYMOUS_TENANT, with the claimed tenant in the payload.
  const named = req.headers["x-tenant-id"];
  const claimedTenant = tenantId === null && named !== undefined && isValidId(named) ? named : null;
  deps.audit({ requestId: req.requestId, tenantId, claimedTenant, sub: p?.sub ?? null, method: req.method, route, status, code });
}

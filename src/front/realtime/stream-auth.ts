import { actingTenant, type Principal } from "../../auth/principal.js";
import { bearerToken, type TokenVerifier } from "../../auth/verifier.js";
import { AppError } from "../../errors/index.js";
import { isValidId } from "../../registry/ids.js";
import type { AuditEntry } from "../http/pipeline.js";

/**
 * WS and SSE authenticate like HTTP, but browsers cannot set headers there,
 * so `?access_token=` and `?tenant_id=` are accepted as well.
 */
export async function authenticateStream(
  verify: TokenVerifier,
  headers: Readonly<Record<string, string>>,
  query: URLSearchParams,
): Promise<{ principal: Principal; tenantId: string }> {
  const token = bearerToken(headers.authorization) ?? query.get("access_token") ?? undefined;
  if (!token) throw new AppError("ERR_UNAUTHENTICATED");
  const principal = await verify(token);
  return { principal, tenantId: actingTenant(principal, headers["x-tenant-id"] ?? query.get("tenant_id")) };
}

/**
 * The audit event of a refused WS upgrade or SSE subscribe (401/403): like HTTP
 * refusals, before a tenant is established it names only the claimed tenant.
 */
export function refusedStreamAudit(route: string, status: number, code: string, headers: Readonly<Record<string, string>>, query: URLSearchParams): AuditEntry | undefined {
  if (status !== 401 && status !== 403) return undefined;
  const claimed = headers["x-tenant-id"] ?? query.get("tenant_id") ?? undefined;
  return {
    requestId: headers["x-request-id"] ?? route,
    tenantId: null,
    claimedTenant: claimed !== undefined && isValidId(claimed) ? claimed : null,
    sub: null,
    method: "GET",
    route,
    status,
    code,
  };
}

/** SPEC §5: an allowlist when set; unset allows every origin in dev/staging and none in prod. */
export function originAllowed(origin: string | undefined, allowed: readonly string[] | undefined, env: string): boolean {
  if (!origin) return true; // not a browser
  if (allowed) return allowed.includes(origin);
  return env !== "prod";
}

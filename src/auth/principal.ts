import { z } from "zod";
import { AppError } from "../errors/index.js";
import { tenantIdSchema } from "../registry/ids.js";

export interface Principal {
  readonly sub: string;
  readonly tenants: readonly string[];
  readonly roles: readonly string[];
  /** Expiry in epoch seconds; WebSockets are closed with 4401 when it passes. */
  readonly exp: number;
}

export const claimsSchema = z.object({
  sub: z.string().min(1).max(256),
  tenants: z.array(z.string().max(128)).max(1000),
  roles: z.array(z.string().max(64)).max(100).optional(),
  exp: z.number(),
});

/** The acting tenant (SPEC §2): required, well-formed, and one the token is a member of. */
export function actingTenant(principal: Principal, tenantId: string | undefined | null): string {
  if (tenantId === undefined || tenantId === null || tenantId === "") {
    throw new AppError("ERR_INVALID_REQUEST", {
      message: "X-Tenant-Id is required",
      details: [{ path: ["X-Tenant-Id"], message: "required" }],
    });
  }
  if (!tenantIdSchema.safeParse(tenantId).success || !principal.tenants.includes(tenantId)) {
    throw new AppError("ERR_FORBIDDEN_TENANT");
  }
  return tenantId;
}

export const isAdmin = (p: Principal): boolean => p.roles.includes("admin");

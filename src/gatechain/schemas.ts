import { z } from "zod";
import { AppError } from "../errors/index.js";
import { tenantIdSchema } from "../registry/ids.js";
import { GATE_ACTIONS } from "./gate.js";

// Admin bodies (SPEC §4 GateChain). Strict objects: a misspelt field is a 400,
// not a silently ignored bound.

export const KPI_NAME = /^[a-z0-9._-]{1,64}$/;

export const budgetBodySchema = z.strictObject({
  limit: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  windowSeconds: z.number().int().min(1).max(31_536_000),
});

const kpiBoundSchema = z
  .strictObject({
    name: z.string().regex(KPI_NAME, "must match [a-z0-9._-]{1,64}"),
    min: z.number().finite().nullable().optional(),
    max: z.number().finite().nullable().optional(),
  })
  .refine((k) => k.min == null || k.max == null || k.min <= k.max, { message: "min must be ≤ max", path: ["min"] });

export const kpisBodySchema = z.strictObject({
  kpis: z
    .array(kpiBoundSchema)
    .max(64)
    .refine((ks) => new Set(ks.map((k) => k.name)).size === ks.length, { message: "KPI names must be unique" }),
});

export const observationBodySchema = z.strictObject({
  name: z.string().regex(KPI_NAME, "must match [a-z0-9._-]{1,64}"),
  value: z.number().finite(),
});

export const killswitchTenantSchema = z.union([z.literal("*"), tenantIdSchema]);
export const killswitchActionSchema = z.union([z.literal("*"), z.enum(GATE_ACTIONS)]);

/** Parses or throws ERR_INVALID_REQUEST whose details list every field issue (SPEC §3). */
export function parseOrThrow<T extends z.ZodType>(schema: T, value: unknown, at?: string): z.output<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const details = r.error.issues.map((i) => ({ path: [...(at ? [at] : []), ...i.path.map(String)].join("."), message: i.message }));
  throw new AppError("ERR_INVALID_REQUEST", { details });
}

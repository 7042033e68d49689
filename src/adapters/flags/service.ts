import { createHash } from "node:crypto";
import { z } from "zod";
import { AppError } from "../../errors/index.js";
import type { Logger } from "../../observability/logger.js";
import { checkKey } from "./base.js";
import { withTimeout } from "./errors.js";
import type { Flag, FlagStore } from "./flags.js";

/** What the route layer passes in; admin role is checked there, before these calls. */
export interface FlagsContext {
  readonly tenantId: string;
}

const putBody = z.strictObject({
  enabled: z.boolean(),
  rollout: z.number().int().min(0).max(100).optional(),
  description: z.string().max(500).optional(),
});

/** OpenFeature-style evaluation details: why a value was chosen. */
export interface FlagEvaluation {
  readonly value: boolean;
  readonly reason: "STATIC" | "SPLIT" | "DISABLED" | "DEFAULT" | "ERROR";
  readonly errorCode?: "FLAG_NOT_FOUND" | "PROVIDER_NOT_READY" | "GENERAL";
}

export class FlagsService {
  constructor(
    private readonly store: FlagStore,
    private readonly logger: Logger,
    private readonly evalTimeoutMs = 250,
  ) {}

  async list(ctx: FlagsContext): Promise<{ items: Flag[] }> {
    return { items: await this.store.listEffective(ctx.tenantId) };
  }

  async get(ctx: FlagsContext, key: string): Promise<Flag> {
    checkKey(key);
    const flag = await this.store.get(ctx.tenantId, key);
    if (!flag) throw new AppError("ERR_NOT_FOUND", { message: `no flag ${key}` });
    return flag;
  }

  /** created → the route answers 201, else 200 (SPEC §7). */
  async put(ctx: FlagsContext, key: string, body: unknown): Promise<{ flag: Flag; created: boolean }> {
    checkKey(key);
    const parsed = putBody.safeParse(body);
    if (!parsed.success) {
      throw new AppError("ERR_INVALID_REQUEST", {
        details: parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })),
      });
    }
    return this.store.putOverride(ctx.tenantId, key, parsed.data);
  }

  /** Removes the tenant's override (→ 204). No override → 404. */
  async delete(ctx: FlagsContext, key: string): Promise<void> {
    checkKey(key);
    if (!(await this.store.deleteOverride(ctx.tenantId, key))) {
      throw new AppError("ERR_NOT_FOUND", { message: `no override for flag ${key}` });
    }
  }

  /** Never throws (OpenFeature): a missing flag or a failing provider yields defaultValue. */
  async isEnabled(tenantId: string, key: string, defaultValue: boolean, subject?: string): Promise<boolean> {
    return (await this.evaluate(tenantId, key, defaultValue, subject)).value;
  }

  async evaluate(tenantId: string, key: string, defaultValue: boolean, subject?: string): Promise<FlagEvaluation> {
    let flag: Flag | undefined;
    try {
      flag = await withTimeout(this.store.get(tenantId, key), this.evalTimeoutMs, "flag evaluation");
    } catch (e) {
      const errorCode = e instanceof AppError && e.key === "ERR_INVALID_REQUEST" ? "GENERAL" : "PROVIDER_NOT_READY";
      this.logger.warn(
        { adapter: "flags", backend: this.store.backend, tenant: tenantId, flag: key, reason: errorCode, defaultValue, err: e instanceof Error ? e.message : String(e) },
        "flag evaluation failed; using the coded default",
      );
      return { value: defaultValue, reason: "ERROR", errorCode };
    }
    if (!flag) {
      this.logger.debug({ adapter: "flags", tenant: tenantId, flag: key, reason: "FLAG_NOT_FOUND", defaultValue }, "unknown flag; using the coded default");
      return { value: defaultValue, reason: "ERROR", errorCode: "FLAG_NOT_FOUND" };
    }
    if (!flag.enabled) return { value: false, reason: "DISABLED" };
    if (flag.rollout >= 100) return { value: true, reason: "STATIC" };
    return { value: rolloutBucket(key, tenantId, subject) < flag.rollout, reason: "SPLIT" };
  }
}

/** Stable 0..99 bucket: the same subject keeps its answer while the rollout only grows. */
export function rolloutBucket(key: string, tenantId: string, subject = ""): number {
  const h = createHash("sha256").update(`${key}\0${tenantId}\0${subject}`).digest();
  return h.readUInt32BE(0) % 100;
}

import type { Registry } from "prom-client";
import type { Config } from "../config/index.js";
import { AppError } from "../errors/index.js";
import type { Logger } from "../observability/logger.js";
import { tenantIdSchema } from "../registry/ids.js";
import { BudgetGate } from "./budget.js";
import { GateChain } from "./chain.js";
import type { DecisionRecord } from "./decision-log.js";
import { allowsMissingConfig, type GateAction, type GateDecision, type GateDeny } from "./gate.js";
import { KillswitchGate } from "./killswitch.js";
import { KpiGate, kpiInBounds } from "./kpi.js";
import { LeaseGranter } from "./lease-granter.js";
import { RateGate } from "./rate.js";
import { budgetBodySchema, killswitchActionSchema, killswitchTenantSchema, kpisBodySchema, observationBodySchema, parseOrThrow } from "./schemas.js";
import { GateSnapshot } from "./snapshot.js";
import type { GateConfigStore, KillswitchKey, KpiBound } from "./store.js";

export interface GateChainServiceOptions {
  config: Pick<Config, "APP_ENV" | "GATECHAIN_ALLOW_MISSING" | "GATECHAIN_RATE_PER_S">;
  store: GateConfigStore;
  registry: Registry;
  logger?: Logger;
  clock?: () => number;
  lastDecisions?: number;
  /** Write-behind period of budget counters; 0 disables the timer (call flushUsage yourself). */
  usageFlushMs?: number;
  lease?: { ttlMs?: number; share?: number; maxGrant?: number };
}

export interface BudgetStatus {
  limit: number;
  windowSeconds: number;
  used: number;
  remaining: number;
  windowEndsAt: string;
}

export interface KpiStatus {
  name: string;
  min: number | null;
  max: number | null;
  value: number | null;
  observedAt: string | null;
  ok: boolean;
}

export interface GateStatus {
  tenantId: string;
  budget: BudgetStatus | null;
  kpis: KpiStatus[];
  lastDecisions: DecisionRecord[];
}

/** The error for a refusal — also for decisions a front's LeaseHolder made locally. */
export function gateError(d: GateDeny): AppError {
  const details = { gate: d.gate, reason: d.reason, ...(d.kpi ? { kpi: d.kpi } : {}) };
  if (d.status === 429) return new AppError("ERR_RATE_LIMITED", { details, retryAfterS: d.retryAfterS ?? 1 });
  return new AppError("ERR_GATE_BLOCKED", { details, ...(d.retryAfterS === undefined ? {} : { retryAfterS: d.retryAfterS }) });
}

/**
 * What the admin routes and the admission path call. Admin writes are
 * serialised, go to the store first and only then into the snapshot the gates
 * read; each one revokes outstanding leases of the tenant so fronts see it
 * within a round trip instead of a lease TTL.
 */
export class GateChainService {
  readonly chain: GateChain;
  readonly granter: LeaseGranter;
  private readonly budget: BudgetGate;
  private readonly clock: () => number;
  private writes: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(
    private readonly opts: GateChainServiceOptions,
    private readonly snapshot: GateSnapshot,
  ) {
    this.clock = opts.clock ?? Date.now;
    const allowMissing = allowsMissingConfig(opts.config);
    this.budget = new BudgetGate(snapshot, allowMissing);
    this.chain = new GateChain({
      gates: [new KillswitchGate(snapshot), new RateGate({ ratePerS: opts.config.GATECHAIN_RATE_PER_S }), this.budget, new KpiGate(snapshot, allowMissing)],
      registry: opts.registry,
      ...(opts.lastDecisions === undefined ? {} : { lastDecisions: opts.lastDecisions }),
    });
    this.granter = new LeaseGranter({ chain: this.chain, budget: this.budget, clock: this.clock, ...opts.lease });
  }

  static async open(opts: GateChainServiceOptions): Promise<GateChainService> {
    const contents = await opts.store.load();
    const svc = new GateChainService(opts, GateSnapshot.from(contents));
    svc.budget.seed(contents.usage);
    const every = opts.usageFlushMs ?? 1000;
    if (every > 0) {
      svc.timer = setInterval(() => {
        svc.flushUsage().catch((err: unknown) => opts.logger?.warn({ err }, "gatechain: saving budget usage failed; will retry"));
      }, every);
      svc.timer.unref(); // counters are also flushed by close(); the timer must not keep a process alive
    }
    return svc;
  }

  /** The hot path: decides in memory; throws ERR_GATE_BLOCKED (403) or ERR_RATE_LIMITED (429). */
  admit(input: { tenantId: string; action: GateAction; now?: number }): void {
    const d = this.decide(input);
    if (!d.allow) throw gateError(d);
  }

  decide(input: { tenantId: string; action: GateAction; now?: number }): GateDecision {
    return this.chain.decide({ tenantId: input.tenantId, action: input.action, now: input.now ?? this.clock() });
  }

  async putBudget(tenantId: string, body: unknown): Promise<BudgetStatus> {
    const t = parseOrThrow(tenantIdSchema, tenantId, "tenantId");
    const b = parseOrThrow(budgetBodySchema, body);
    await this.serial(async () => {
      const cfg = { ...b, updatedAt: new Date(this.clock()).toISOString() };
      await this.opts.store.putBudget(t, cfg);
      this.snapshot.budgets.set(t, cfg);
    });
    this.granter.invalidate(t);
    return this.budgetStatus(t)!; // just set
  }

  async putKpis(tenantId: string, body: unknown): Promise<{ tenantId: string; kpis: KpiBound[] }> {
    const t = parseOrThrow(tenantIdSchema, tenantId, "tenantId");
    const kpis: KpiBound[] = parseOrThrow(kpisBodySchema, body).kpis.map((k) => ({ name: k.name, min: k.min ?? null, max: k.max ?? null }));
    await this.serial(async () => {
      await this.opts.store.putKpis(t, kpis);
      this.snapshot.setKpis(t, kpis);
    });
    this.granter.invalidate(t);
    return { tenantId: t, kpis };
  }

  async observe(tenantId: string, body: unknown): Promise<KpiStatus> {
    const t = parseOrThrow(tenantIdSchema, tenantId, "tenantId");
    const o = parseOrThrow(observationBodySchema, body);
    const flipped = await this.serial(async () => {
      // Checked inside the queue so a concurrent putKpis that drops the KPI is seen.
      if (!this.snapshot.kpis.get(t)?.some((k) => k.name === o.name)) {
        throw new AppError("ERR_NOT_FOUND", { message: `no KPI named ${o.name} is configured for this tenant` });
      }
      const wasOk = this.kpiStatus(t).every((k) => k.ok);
      const obs = { name: o.name, value: o.value, observedAt: new Date(this.clock()).toISOString() };
      await this.opts.store.putObservation(t, obs);
      this.snapshot.setObservation(t, obs);
      return wasOk !== this.kpiStatus(t).every((k) => k.ok);
    });
    // Observations can be frequent; fronts only need to hear when the tenant's KPI verdict flips.
    if (flipped) this.granter.invalidate(t);
    return this.kpiStatus(t).find((k) => k.name === o.name)!; // configured, checked above
  }

  async setKillswitch(tenantId: string, action: string, on: boolean): Promise<void> {
    const key: KillswitchKey = {
      tenantId: parseOrThrow(killswitchTenantSchema, tenantId, "tenantId"),
      action: parseOrThrow(killswitchActionSchema, action, "action"),
    };
    await this.serial(async () => {
      await this.opts.store.setKillswitch(key, on);
      this.snapshot.setKillswitch(key, on);
    });
    this.granter.invalidate(key.tenantId);
  }

  killswitches(): KillswitchKey[] {
    return this.snapshot.listKillswitches();
  }

  status(tenantId: string): GateStatus {
    const t = parseOrThrow(tenantIdSchema, tenantId, "tenant_id");
    return { tenantId: t, budget: this.budgetStatus(t), kpis: this.kpiStatus(t), lastDecisions: this.chain.lastDecisions(t) };
  }

  /** Persists changed budget counters (also run by the timer and by close). */
  async flushUsage(): Promise<void> {
    await this.serial(() => this.saveDirty());
  }

  /** Flushes counters, waits for queued admin writes, closes the store. Later writes fail with ERR_DRAINING. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    const last = this.writes.then(() => this.saveDirty());
    try {
      await last;
    } finally {
      await this.opts.store.close();
    }
  }

  private async saveDirty(): Promise<void> {
    const dirty = this.budget.takeDirty();
    try {
      await this.opts.store.saveUsage(dirty);
    } catch (err) {
      this.budget.markDirty(dirty); // retried by the next flush
      throw err;
    }
  }

  private budgetStatus(t: string): BudgetStatus | null {
    const cfg = this.snapshot.budgets.get(t);
    const w = this.budget.window(t, this.clock());
    if (!cfg || !w) return null;
    return {
      limit: cfg.limit,
      windowSeconds: cfg.windowSeconds,
      used: w.used,
      remaining: Math.max(0, w.limit - w.used),
      windowEndsAt: new Date(w.end).toISOString(),
    };
  }

  private kpiStatus(t: string): KpiStatus[] {
    const obs = this.snapshot.observations.get(t);
    return (this.snapshot.kpis.get(t) ?? []).map((k) => {
      const o = obs?.get(k.name);
      return { name: k.name, min: k.min, max: k.max, value: o?.value ?? null, observedAt: o?.observedAt ?? null, ok: !o || kpiInBounds(k, o.value) };
    });
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new AppError("ERR_DRAINING"));
    const run = this.writes.then(fn, fn);
    this.writes = run.catch(() => undefined);
    return run;
  }
}

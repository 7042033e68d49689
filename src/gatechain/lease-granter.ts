import type { BudgetGate } from "./budget.js";
import type { GateChain } from "./chain.js";
import type { GateAction, GateDeny } from "./gate.js";
import {
  leaseReleaseSchema,
  leaseRequestSchema,
  type LeaseRelease,
  type LeaseRequest,
  type LeaseResponse,
  type LeaseReturn,
  type LeaseRevoke,
} from "./lease-protocol.js";
import { parseOrThrow } from "./schemas.js";

export interface LeaseGranterOptions {
  chain: GateChain;
  /** The same BudgetGate instance the chain runs: its counters are the authority. */
  budget: BudgetGate;
  clock?: () => number;
  /** Lease lifetime; also how long a killswitch/KPI change may take to reach a holder that misses a revoke. */
  ttlMs?: number;
  /** Fraction of what is left that one grant may take (see GateChain.reserve). */
  share?: number;
  maxGrant?: number;
}

export type LeaseOutcome =
  | { readonly ok: true; readonly leaseId: string; readonly granted: number; readonly validUntil: number }
  | { readonly ok: false; readonly decision: GateDeny };

interface Outstanding {
  tenantId: string;
  /** Budget window the units were counted in; null when the tenant had no budget. */
  windowStart: number | null;
  granted: number;
  validUntil: number;
}

// Unreturned leases are forgotten this long after they end (their holder went
// away); a return arriving later is ignored, which only under-credits.
const FORGET_AFTER_MS = 60_000;

/**
 * Supervisor side of GateChain leases. Correctness rests on three facts:
 * every granted unit is committed to the budget counter at grant time;
 * a lease never outlives the budget window it was counted in (validUntil ≤
 * window end), so a unit is admitted in the window that paid for it; and
 * units come back (credit) only from a lease the holder has stopped using,
 * at most once per lease and only into the same window. Hence, per window,
 * admitted ≤ granted − credited ≤ limit, however many holders there are.
 */
export class LeaseGranter {
  private readonly chain: GateChain;
  private readonly budget: BudgetGate;
  private readonly clock: () => number;
  private readonly ttlMs: number;
  private readonly share: number;
  private readonly maxGrant: number;
  private readonly leases = new Map<string, Outstanding>();
  private readonly listeners = new Set<(msg: LeaseRevoke) => void>();
  private nextLease = 1;
  private lastSweep = 0;

  constructor(opts: LeaseGranterOptions) {
    this.chain = opts.chain;
    this.budget = opts.budget;
    this.clock = opts.clock ?? Date.now;
    this.ttlMs = opts.ttlMs ?? 1000;
    this.share = opts.share ?? 0.5;
    this.maxGrant = opts.maxGrant ?? 1024;
  }

  grant(tenantId: string, action: GateAction, want: number): LeaseOutcome {
    const now = this.clock();
    this.sweep(now);
    const input = { tenantId, action, now };
    const window = this.budget.window(tenantId, now);
    const r = this.chain.reserve(input, Math.min(Math.max(1, want), this.maxGrant), this.share);
    if (!r.decision.allow) return { ok: false, decision: r.decision };
    const validUntil = Math.min(now + this.ttlMs, window ? window.end : Number.POSITIVE_INFINITY);
    const leaseId = String(this.nextLease++);
    this.leases.set(leaseId, { tenantId, windowStart: window ? window.start : null, granted: r.units, validUntil });
    return { ok: true, leaseId, granted: r.units, validUntil };
  }

  /** Credits unused units of ended leases. Unknown or already-returned lease ids are ignored. */
  release(returns: readonly LeaseReturn[]): void {
    for (const { leaseId, unused } of returns) {
      const rec = this.leases.get(leaseId);
      if (!rec) continue;
      this.leases.delete(leaseId);
      if (rec.windowStart !== null) this.budget.credit(rec.tenantId, rec.windowStart, Math.min(unused, rec.granted));
    }
  }

  /** Entry point for a message from a holder; throws ERR_INVALID_REQUEST on a malformed one. */
  handle(msg: LeaseRequest): LeaseResponse;
  handle(msg: LeaseRelease): undefined;
  handle(msg: unknown): LeaseResponse | undefined;
  handle(msg: unknown): LeaseResponse | undefined {
    if (typeof msg === "object" && msg !== null && (msg as { type?: unknown }).type === "lease.release") {
      this.release(parseOrThrow(leaseReleaseSchema, msg).returns);
      return undefined;
    }
    const req = parseOrThrow(leaseRequestSchema, msg);
    // Returns first: units a holder hands back may be exactly what this grant needs.
    this.release(req.returns);
    const o = this.grant(req.tenantId, req.action, req.want);
    const base = { id: req.id, tenantId: req.tenantId, action: req.action };
    return o.ok
      ? { type: "lease.grant", ...base, leaseId: o.leaseId, granted: o.granted, validUntil: o.validUntil }
      : { type: "lease.deny", ...base, decision: o.decision };
  }

  /** Tell holders to stop using leases of a tenant (`*`: all) — call after any admin change. */
  invalidate(tenantId: string): void {
    const msg: LeaseRevoke = { type: "lease.revoke", tenantId };
    for (const l of this.listeners) l(msg);
  }

  onRevoke(listener: (msg: LeaseRevoke) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  outstanding(): number {
    return this.leases.size;
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < 5000) return;
    this.lastSweep = now;
    for (const [id, rec] of this.leases) if (rec.validUntil + FORGET_AFTER_MS < now) this.leases.delete(id);
  }
}

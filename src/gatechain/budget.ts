import { ALLOW, deny, retryAfterSeconds, type Gate, type GateDecision, type GateInput } from "./gate.js";
import type { GateSnapshot } from "./snapshot.js";
import type { BudgetUsage } from "./store.js";

interface Usage {
  windowStart: number;
  used: number;
}

export interface BudgetWindow {
  readonly start: number;
  readonly end: number;
  readonly limit: number;
  readonly used: number;
}

/**
 * Fixed windows aligned to the epoch (a 86400 s budget resets at UTC
 * midnight), so every node and every restart agrees on where a window starts
 * without storing an anchor. One unit per admitted action.
 *
 * This gate owns the authoritative counters; lease grants consume from them
 * too (lease-granter.ts). Counters are written behind to the store
 * (takeDirty), so a restart resumes the current window's count.
 */
export class BudgetGate implements Gate {
  readonly name = "budget" as const;
  private readonly usage = new Map<string, Usage>();
  private readonly dirty = new Set<string>();

  constructor(
    private readonly snapshot: GateSnapshot,
    private readonly allowMissing: boolean,
  ) {}

  /** The tenant's current window, or undefined when it has no budget. */
  window(tenantId: string, now: number): BudgetWindow | undefined {
    const cfg = this.snapshot.budgets.get(tenantId);
    if (!cfg) return undefined;
    const size = cfg.windowSeconds * 1000;
    const start = Math.floor(now / size) * size;
    const u = this.usage.get(tenantId);
    // A counter from an earlier window (or from before windowSeconds changed) is simply stale.
    const used = u && u.windowStart === start ? u.used : 0;
    return { start, end: start + size, limit: cfg.limit, used };
  }

  check(input: GateInput): GateDecision {
    const w = this.window(input.tenantId, input.now);
    if (!w) return this.allowMissing ? ALLOW : deny("budget", "budget_not_configured");
    if (w.used < w.limit) return ALLOW;
    return deny("budget", "budget_exhausted", { retryAfterS: retryAfterSeconds(w.end - input.now) });
  }

  available(input: GateInput): number {
    const w = this.window(input.tenantId, input.now);
    return w ? Math.max(0, w.limit - w.used) : Number.POSITIVE_INFINITY;
  }

  commit(input: GateInput, units: number): void {
    const w = this.window(input.tenantId, input.now);
    if (!w) return; // unconfigured but allowed: nothing to count against
    this.usage.set(input.tenantId, { windowStart: w.start, used: w.used + units });
    this.dirty.add(input.tenantId);
  }

  /** Gives back units that were reserved (leased) and never used — only within the same window. */
  credit(tenantId: string, windowStart: number, units: number): boolean {
    const u = this.usage.get(tenantId);
    if (!u || u.windowStart !== windowStart || units <= 0) return false;
    u.used = Math.max(0, u.used - units);
    this.dirty.add(tenantId);
    return true;
  }

  seed(entries: readonly BudgetUsage[]): void {
    for (const e of entries) this.usage.set(e.tenantId, { windowStart: e.windowStart, used: e.used });
  }

  /** After a failed save: those counters still need writing. */
  markDirty(entries: readonly BudgetUsage[]): void {
    for (const e of entries) if (this.usage.has(e.tenantId)) this.dirty.add(e.tenantId);
  }

  /** Counters changed since the last call, for the store's write-behind. */
  takeDirty(): BudgetUsage[] {
    const out: BudgetUsage[] = [];
    for (const tenantId of this.dirty) {
      const u = this.usage.get(tenantId);
      if (u) out.push({ tenantId, windowStart: u.windowStart, used: u.used });
    }
    this.dirty.clear();
    return out;
  }
}

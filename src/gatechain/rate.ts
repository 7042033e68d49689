import { ALLOW, deny, retryAfterSeconds, type Gate, type GateDecision, type GateInput } from "./gate.js";

interface Bucket {
  tokens: number;
  at: number;
}

export interface RateGateOptions {
  /** Sustained admissions per second per tenant (GATECHAIN_RATE_PER_S). */
  ratePerS: number;
  /** Bucket size; defaults to one second's worth, so a burst never exceeds the per-second rate. */
  burst?: number;
}

// Past this many buckets, full ones are swept: a full bucket is the same as no
// bucket, so forgetting it changes no decision and bounds memory to active tenants.
const SWEEP_AT = 10_000;

/** Token bucket per tenant, across all gated actions. */
export class RateGate implements Gate {
  readonly name = "rate" as const;
  private readonly buckets = new Map<string, Bucket>();
  private readonly rate: number;
  private readonly burst: number;
  private sweepAt = SWEEP_AT;

  constructor(opts: RateGateOptions) {
    if (!(opts.ratePerS > 0)) throw new RangeError("ratePerS must be > 0");
    this.rate = opts.ratePerS;
    this.burst = Math.max(1, opts.burst ?? opts.ratePerS);
  }

  private refill(input: GateInput): Bucket {
    let b = this.buckets.get(input.tenantId);
    if (!b) {
      if (this.buckets.size >= this.sweepAt) this.sweep(input.now);
      b = { tokens: this.burst, at: input.now };
      this.buckets.set(input.tenantId, b);
      return b;
    }
    // A clock that steps backwards must not mint tokens, hence max(0, …).
    const elapsed = Math.max(0, input.now - b.at);
    b.tokens = Math.min(this.burst, b.tokens + (elapsed * this.rate) / 1000);
    b.at = Math.max(b.at, input.now);
    return b;
  }

  check(input: GateInput): GateDecision {
    const b = this.refill(input);
    if (b.tokens >= 1) return ALLOW;
    return deny("rate", "rate_limited", { retryAfterS: retryAfterSeconds(((1 - b.tokens) * 1000) / this.rate) });
  }

  available(input: GateInput): number {
    return Math.floor(this.refill(input).tokens);
  }

  commit(input: GateInput, units: number): void {
    this.refill(input).tokens -= units;
  }

  private sweep(now: number): void {
    for (const [tenant, b] of this.buckets) {
      if (b.tokens + ((now - b.at) * this.rate) / 1000 >= this.burst) this.buckets.delete(tenant);
    }
    // Many busy tenants: the next sweep waits until the map doubles, so sweeps stay amortised O(1).
    this.sweepAt = Math.max(SWEEP_AT, this.buckets.size * 2);
  }
}

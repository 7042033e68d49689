import { AppError } from "../errors/index.js";
import { ALLOW, deny, type GateAction, type GateDecision, type GateDeny } from "./gate.js";
import type { LeaseRelease, LeaseRequest, LeaseResponse, LeaseReturn, LeaseRevoke } from "./lease-protocol.js";

export interface LeaseHolderOptions {
  /** Transport to the granter (e.g. a MessagePort round trip). A rejection fails the waiting admits. */
  request: (msg: LeaseRequest) => Promise<LeaseResponse>;
  /** Must be the granter's clock (Date.now in one process): validUntil is compared against it. */
  clock?: () => number;
  initialWant?: number;
  maxWant?: number;
  /** How long a granter deny is reused before asking again (capped by its retryAfterS). */
  denyCacheMs?: number;
}

interface Slice {
  readonly leaseId: string;
  readonly granted: number;
  readonly validUntil: number;
  left: number;
}

interface KeyState {
  readonly tenantId: string;
  readonly action: GateAction;
  slices: Slice[];
  want: number;
  waiting: number;
  inflight: Promise<LeaseResponse> | undefined;
  /** Bumped by revoke: a grant for a request sent before it is given back unused. */
  generation: number;
  denied: { decision: GateDeny; until: number } | undefined;
}

// Bounds a waiter's retries when concurrent waiters keep winning the units it
// was woken for; each round already asks for at least as many as are waiting.
const MAX_ROUNDS = 64;
const SWEEP_AT = 10_000;

/**
 * Front side of GateChain leases: admits locally while it holds units of a
 * (tenant, action) lease, asks for the next slice before running out, and
 * returns the units it did not use. The slice size adapts: it doubles when a
 * slice is used up before it expires and halves when most of one expires.
 */
export class LeaseHolder {
  private readonly keys = new Map<string, KeyState>();
  private returns: LeaseReturn[] = [];
  private nextId = 1;
  private sweepAt = SWEEP_AT;
  private readonly clock: () => number;
  private readonly initialWant: number;
  private readonly maxWant: number;
  private readonly denyCacheMs: number;

  constructor(private readonly opts: LeaseHolderOptions) {
    this.clock = opts.clock ?? Date.now;
    this.initialWant = Math.max(1, opts.initialWant ?? 4);
    this.maxWant = Math.max(this.initialWant, opts.maxWant ?? 256);
    this.denyCacheMs = opts.denyCacheMs ?? 250;
  }

  /** Synchronous fast path: a decision when one can be made locally, undefined when the granter must be asked. */
  tryAdmit(tenantId: string, action: GateAction): GateDecision | undefined {
    return this.local(this.state(tenantId, action), this.clock());
  }

  async admit(tenantId: string, action: GateAction): Promise<GateDecision> {
    const st = this.state(tenantId, action);
    const fast = this.local(st, this.clock());
    if (fast) return fast;
    st.waiting++;
    let reclaimed = false;
    try {
      for (let round = 0; round < MAX_ROUNDS; round++) {
        const res = await this.ask(st);
        if (res.type === "lease.deny") {
          // A small budget may sit in this holder's slices for the tenant's other actions:
          // hand them back (with the next request) and ask once more before refusing.
          if (!reclaimed && res.decision.reason === "budget_exhausted" && this.heldFor(st.tenantId) > 0) {
            reclaimed = true;
            this.revoke({ type: "lease.revoke", tenantId: st.tenantId });
            continue;
          }
          return res.decision;
        }
        const d = this.local(st, this.clock());
        if (d) return d;
      }
      return deny("rate", "rate_limited", { retryAfterS: 1 });
    } finally {
      st.waiting--;
    }
  }

  /**
   * A refusal this holder already knows (a granter deny still cached, no units held),
   * without consuming anything: lets a front refuse a flood before doing the work
   * (validation, authorisation) that an admitted request would need.
   */
  knownRefusal(tenantId: string, action: GateAction): GateDeny | undefined {
    const st = this.keys.get(`${tenantId}\u0000${action}`);
    if (!st || st.slices.length > 0 || !st.denied) return undefined;
    return this.clock() < st.denied.until ? st.denied.decision : undefined;
  }

  /** Supervisor said config changed: stop using the tenant's units now; they go back with the next request. */
  revoke(msg: LeaseRevoke): void {
    for (const st of this.keys.values()) {
      if (msg.tenantId !== "*" && st.tenantId !== msg.tenantId) continue;
      for (const s of st.slices) this.giveBack(s);
      st.slices = [];
      st.denied = undefined;
      st.generation++;
    }
  }

  /** Resolves once no lease request is in flight (prefetches included); call before drain() at shutdown. */
  async settled(): Promise<void> {
    for (;;) {
      const inflight = [...this.keys.values()].flatMap((st) => (st.inflight ? [st.inflight] : []));
      if (inflight.length === 0) return;
      await Promise.allSettled(inflight);
    }
  }

  /** Gives up every held unit (shutdown, idle); send the result to the granter. */
  drain(): LeaseRelease {
    for (const st of this.keys.values()) {
      for (const s of st.slices) this.giveBack(s);
      st.slices = [];
    }
    return { type: "lease.release", returns: this.takeReturns() };
  }

  /** Units currently admissible locally (expired slices excluded). */
  held(): number {
    const now = this.clock();
    let n = 0;
    for (const st of this.keys.values()) for (const s of st.slices) if (now < s.validUntil) n += s.left;
    return n;
  }

  private heldFor(tenantId: string): number {
    let n = 0;
    for (const st of this.keys.values()) if (st.tenantId === tenantId) n += this.units(st);
    return n;
  }

  private state(tenantId: string, action: GateAction): KeyState {
    const k = `${tenantId}\u0000${action}`;
    let st = this.keys.get(k);
    if (!st) {
      if (this.keys.size >= this.sweepAt) this.sweep();
      st = { tenantId, action, slices: [], want: this.initialWant, waiting: 0, inflight: undefined, generation: 0, denied: undefined };
      this.keys.set(k, st);
    }
    return st;
  }

  private local(st: KeyState, now: number): GateDecision | undefined {
    this.expire(st, now);
    const s = st.slices[0];
    if (s) {
      s.left--;
      if (s.left === 0) {
        st.slices.shift();
        st.want = Math.min(this.maxWant, st.want * 2); // used up before it expired: demand is higher
      }
      if (!st.inflight && this.units(st) <= Math.floor(st.want / 4)) void this.ask(st).catch(() => undefined); // prefetch; a failure surfaces on the next blocking admit
      return ALLOW;
    }
    if (st.denied && now < st.denied.until) return st.denied.decision;
    return undefined;
  }

  private ask(st: KeyState): Promise<LeaseResponse> {
    if (st.inflight) return st.inflight;
    const msg: LeaseRequest = {
      type: "lease.request",
      id: this.nextId++,
      tenantId: st.tenantId,
      action: st.action,
      want: Math.min(this.maxWant, Math.max(st.want, st.waiting)),
      returns: this.takeReturns(),
    };
    const generation = st.generation;
    const p = this.opts.request(msg).then(
      (res) => this.accept(st, res, generation),
      (cause: unknown) => {
        throw new AppError("ERR_NOT_READY", { message: "GateChain lease request failed", cause });
      },
    );
    st.inflight = p;
    void p.finally(() => {
      if (st.inflight === p) st.inflight = undefined;
    }).catch(() => undefined);
    return p;
  }

  private accept(st: KeyState, res: LeaseResponse, generation: number): LeaseResponse {
    const now = this.clock();
    if (res.type === "lease.grant") {
      const slice: Slice = { leaseId: res.leaseId, granted: res.granted, validUntil: res.validUntil, left: res.granted };
      // Expired on arrival, or possibly granted under config that a revoke since replaced: never use it.
      if (slice.granted > 0 && now < slice.validUntil && generation === st.generation) {
        st.denied = undefined;
        st.slices.push(slice);
      } else this.giveBack(slice);
    } else if (generation === st.generation) {
      const cap = res.decision.retryAfterS === undefined ? this.denyCacheMs : Math.min(this.denyCacheMs, res.decision.retryAfterS * 1000);
      st.denied = { decision: res.decision, until: now + cap };
    }
    return res;
  }

  private expire(st: KeyState, now: number): void {
    while (st.slices.length > 0 && now >= st.slices[0]!.validUntil) {
      const s = st.slices.shift()!;
      if (s.left > s.granted / 2) st.want = Math.max(1, Math.ceil(st.want / 2)); // mostly unused: ask for less
      this.giveBack(s);
    }
  }

  private units(st: KeyState): number {
    let n = 0;
    for (const s of st.slices) n += s.left;
    return n;
  }

  private giveBack(s: Slice): void {
    if (s.left > 0) this.returns.push({ leaseId: s.leaseId, unused: s.left });
    s.left = 0;
  }

  private takeReturns(): LeaseReturn[] {
    const r = this.returns;
    this.returns = [];
    return r;
  }

  private sweep(): void {
    for (const [k, st] of this.keys) if (st.slices.length === 0 && !st.inflight && st.waiting === 0) this.keys.delete(k);
    this.sweepAt = Math.max(SWEEP_AT, this.keys.size * 2); // amortised: see RateGate
  }
}

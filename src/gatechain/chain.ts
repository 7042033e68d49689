import { Counter, type Registry } from "prom-client";
import { AppError } from "../errors/index.js";
import { ALLOW, GATE_ORDER, type Gate, type GateDecision, type GateInput } from "./gate.js";
import { DecisionLog, type DecisionRecord } from "./decision-log.js";

export const GATE_DECISIONS_METRIC = "switchyard_gate_decisions_total";

type Labels = "gate" | "outcome" | "reason";

export interface GateChainOptions {
  /** In SPEC order (killswitch → rate → budget → kpi); a subset is allowed, a reordering is not. */
  gates: readonly Gate[];
  registry: Registry;
  /** How many decisions to keep per tenant for the status route. */
  lastDecisions?: number;
}

export interface Reservation {
  readonly decision: GateDecision;
  /** Units committed on every consumable gate (0 when denied). */
  readonly units: number;
}

function decisionCounter(registry: Registry): Counter<Labels> {
  // Reuse on the same registry (a second chain in one process, e.g. after a reload).
  const existing = registry.getSingleMetric(GATE_DECISIONS_METRIC);
  if (existing) return existing as Counter<Labels>; // this module is the only registrar of that name
  return new Counter({
    name: GATE_DECISIONS_METRIC,
    help: "GateChain decisions by deciding gate, outcome (allow|deny|lease) and reason",
    labelNames: ["gate", "outcome", "reason"],
    registers: [registry],
  });
}

/**
 * The ordered hook runner (hocuspocus-style): each gate may stop the chain
 * with a deny; the first deny wins and later gates are not asked. Only when
 * every gate allowed are the consumable gates (rate, budget) committed.
 */
export class GateChain {
  private readonly gates: readonly Gate[];
  private readonly consumable: readonly Gate[];
  private readonly counter: Counter<Labels>;
  private readonly log: DecisionLog;

  constructor(opts: GateChainOptions) {
    let last = -1;
    for (const g of opts.gates) {
      const pos = GATE_ORDER.indexOf(g.name);
      if (pos <= last) throw new AppError("ERR_INTERNAL", { message: `gate ${g.name} out of order; the order is ${GATE_ORDER.join(" → ")}` });
      last = pos;
    }
    this.gates = [...opts.gates];
    this.consumable = this.gates.filter((g) => g.commit);
    this.counter = decisionCounter(opts.registry);
    this.log = new DecisionLog(opts.lastDecisions ?? 50);
  }

  private firstDeny(input: GateInput): GateDecision {
    for (const g of this.gates) {
      const d = g.check(input);
      if (!d.allow) return d;
    }
    return ALLOW;
  }

  /** One action: decides, and on allow consumes one unit. */
  decide(input: GateInput): GateDecision {
    const d = this.firstDeny(input);
    if (d.allow) for (const g of this.consumable) g.commit!(input, 1);
    this.count(input, d, "allow");
    return d;
  }

  /**
   * Up to `want` units at once (a lease). `share` caps the grant at that
   * fraction of what each consumable gate has left (at least 1), so one
   * holder cannot drain a small budget that others are waiting on.
   */
  reserve(input: GateInput, want: number, share = 1): Reservation {
    const d = this.firstDeny(input);
    if (!d.allow) {
      this.count(input, d, "lease");
      return { decision: d, units: 0 };
    }
    let units = Math.max(1, Math.floor(want));
    for (const g of this.consumable) {
      const avail = g.available ? g.available(input) : Number.POSITIVE_INFINITY;
      if (avail !== Number.POSITIVE_INFINITY) units = Math.min(units, Math.max(1, Math.floor(avail * share)));
    }
    for (const g of this.consumable) g.commit!(input, units);
    this.count(input, d, "lease", units);
    return { decision: d, units };
  }

  lastDecisions(tenantId: string): DecisionRecord[] {
    return this.log.last(tenantId);
  }

  private count(input: GateInput, d: GateDecision, allowOutcome: "allow" | "lease", units?: number): void {
    this.log.record(input.tenantId, input.action, input.now, d, units);
    if (d.allow) this.counter.inc({ gate: "chain", outcome: allowOutcome, reason: "pass" });
    else this.counter.inc({ gate: d.gate, outcome: "deny", reason: d.reason });
  }
}

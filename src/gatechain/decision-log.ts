import type { GateAction, GateDecision, GateName, GateReason } from "./gate.js";

export interface DecisionRecord {
  readonly at: string;
  readonly action: GateAction;
  readonly allow: boolean;
  readonly gate?: GateName;
  readonly reason?: GateReason;
  readonly kpi?: string;
  /** Units handed out when the decision was a lease grant. */
  readonly units?: number;
}

/** The last N decisions per tenant, for GET /gatechain/status. A ring per tenant keeps it O(1). */
export class DecisionLog {
  private readonly rings = new Map<string, { items: DecisionRecord[]; next: number }>();

  constructor(private readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError("decision log size must be a positive integer");
  }

  record(tenantId: string, action: GateAction, now: number, d: GateDecision, units?: number): void {
    const rec: DecisionRecord = d.allow
      ? { at: new Date(now).toISOString(), action, allow: true, ...(units === undefined ? {} : { units }) }
      : { at: new Date(now).toISOString(), action, allow: false, gate: d.gate, reason: d.reason, ...(d.kpi ? { kpi: d.kpi } : {}) };
    let ring = this.rings.get(tenantId);
    if (!ring) this.rings.set(tenantId, (ring = { items: [], next: 0 }));
    if (ring.items.length < this.size) ring.items.push(rec);
    else ring.items[ring.next] = rec;
    ring.next = (ring.next + 1) % this.size;
  }

  /** Newest first. */
  last(tenantId: string): DecisionRecord[] {
    const ring = this.rings.get(tenantId);
    if (!ring) return [];
    const n = ring.items.length;
    const out: DecisionRecord[] = [];
    for (let i = 1; i <= n; i++) out.push(ring.items[(ring.next - i + n) % n]!);
    return out;
  }
}

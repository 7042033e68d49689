import { ALLOW, deny, type Gate, type GateDecision, type GateInput } from "./gate.js";
import type { GateSnapshot } from "./snapshot.js";
import type { KpiBound } from "./store.js";

export const kpiInBounds = (k: KpiBound, value: number): boolean =>
  (k.min === null || value >= k.min) && (k.max === null || value <= k.max);

/**
 * Last gate: the tenant's latest observation of each KPI must lie within its
 * bounds. No observation yet passes; an out-of-bounds one blocks until a later
 * observation is back inside (SPEC §7) — which is just "evaluate the latest".
 */
export class KpiGate implements Gate {
  readonly name = "kpi" as const;

  constructor(
    private readonly snapshot: GateSnapshot,
    private readonly allowMissing: boolean,
  ) {}

  check(input: GateInput): GateDecision {
    const bounds = this.snapshot.kpis.get(input.tenantId);
    if (!bounds) return this.allowMissing ? ALLOW : deny("kpi", "kpi_not_configured");
    const obs = this.snapshot.observations.get(input.tenantId);
    if (!obs) return ALLOW;
    for (const k of bounds) {
      const o = obs.get(k.name);
      if (o && !kpiInBounds(k, o.value)) return deny("kpi", "kpi_out_of_bounds", { kpi: k.name });
    }
    return ALLOW;
  }
}

import type { GateAction } from "./gate.js";
import type { BudgetConfig, GateStoreContents, KillswitchKey, KpiBound, KpiObservation } from "./store.js";

const ksKey = (tenantId: string, action: GateAction | "*"): string => `${tenantId}\u0000${action}`;

/**
 * The in-memory view the gates read. Only the service mutates it, and only
 * after the store accepted the write, so a crash never leaves the snapshot
 * ahead of what a restart would load.
 */
export class GateSnapshot {
  readonly budgets = new Map<string, BudgetConfig>();
  readonly kpis = new Map<string, readonly KpiBound[]>();
  readonly observations = new Map<string, Map<string, KpiObservation>>();
  private readonly killswitches = new Set<string>();

  static from(contents: GateStoreContents): GateSnapshot {
    const s = new GateSnapshot();
    for (const { tenantId, ...b } of contents.budgets) s.budgets.set(tenantId, b);
    for (const { tenantId, kpis } of contents.kpis) s.kpis.set(tenantId, kpis);
    for (const { tenantId, ...o } of contents.observations) s.setObservation(tenantId, o);
    for (const k of contents.killswitches) s.setKillswitch(k, true);
    return s;
  }

  setKpis(tenantId: string, kpis: readonly KpiBound[]): void {
    this.kpis.set(tenantId, kpis);
    const names = new Set(kpis.map((k) => k.name));
    const obs = this.observations.get(tenantId);
    if (obs) for (const name of [...obs.keys()]) if (!names.has(name)) obs.delete(name);
  }

  setObservation(tenantId: string, o: KpiObservation): void {
    let byName = this.observations.get(tenantId);
    if (!byName) this.observations.set(tenantId, (byName = new Map()));
    byName.set(o.name, o);
  }

  setKillswitch(k: KillswitchKey, on: boolean): void {
    if (on) this.killswitches.add(ksKey(k.tenantId, k.action));
    else this.killswitches.delete(ksKey(k.tenantId, k.action));
  }

  /** Four set look-ups: global, global-per-action, tenant, tenant-per-action. */
  killed(tenantId: string, action: GateAction): boolean {
    if (this.killswitches.size === 0) return false;
    return (
      this.killswitches.has(ksKey("*", "*")) ||
      this.killswitches.has(ksKey("*", action)) ||
      this.killswitches.has(ksKey(tenantId, "*")) ||
      this.killswitches.has(ksKey(tenantId, action))
    );
  }

  listKillswitches(): KillswitchKey[] {
    return [...this.killswitches].map((s) => {
      const [tenantId = "", action = "*"] = s.split("\u0000");
      return { tenantId, action: action as GateAction | "*" }; // only ever built by ksKey from typed values
    });
  }
}

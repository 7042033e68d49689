import type { BudgetConfig, BudgetUsage, GateConfigStore, GateStoreContents, KillswitchKey, KpiBound, KpiObservation } from "./store.js";

const ksKey = (k: KillswitchKey): string => `${k.tenantId}\u0000${k.action}`;

/**
 * Complete in-memory GateConfigStore (the reference for the contract suite).
 * Everything is copied in and out so callers can never alias stored state.
 */
export class MemoryGateConfigStore implements GateConfigStore {
  private readonly budgets = new Map<string, BudgetConfig>();
  private readonly kpis = new Map<string, KpiBound[]>();
  private readonly observations = new Map<string, Map<string, KpiObservation>>();
  private readonly killswitches = new Map<string, KillswitchKey>();
  private readonly usage = new Map<string, BudgetUsage>();
  private closed = false;

  private open(): void {
    if (this.closed) throw new Error("MemoryGateConfigStore is closed");
  }

  async load(): Promise<GateStoreContents> {
    this.open();
    return {
      budgets: [...this.budgets].map(([tenantId, b]) => ({ tenantId, ...b })),
      kpis: [...this.kpis].map(([tenantId, list]) => ({ tenantId, kpis: list.map((k) => ({ ...k })) })),
      observations: [...this.observations].flatMap(([tenantId, byName]) => [...byName.values()].map((o) => ({ tenantId, ...o }))),
      killswitches: [...this.killswitches.values()].map((k) => ({ ...k })),
      usage: [...this.usage.values()].map((u) => ({ ...u })),
    };
  }

  async putBudget(tenantId: string, budget: BudgetConfig): Promise<void> {
    this.open();
    this.budgets.set(tenantId, { ...budget });
  }

  async putKpis(tenantId: string, kpis: readonly KpiBound[]): Promise<void> {
    this.open();
    this.kpis.set(tenantId, kpis.map((k) => ({ ...k })));
    const names = new Set(kpis.map((k) => k.name));
    const obs = this.observations.get(tenantId);
    if (obs) for (const name of [...obs.keys()]) if (!names.has(name)) obs.delete(name);
  }

  async putObservation(tenantId: string, observation: KpiObservation): Promise<void> {
    this.open();
    let byName = this.observations.get(tenantId);
    if (!byName) this.observations.set(tenantId, (byName = new Map()));
    byName.set(observation.name, { ...observation });
  }

  async setKillswitch(key: KillswitchKey, on: boolean): Promise<void> {
    this.open();
    if (on) this.killswitches.set(ksKey(key), { ...key });
    else this.killswitches.delete(ksKey(key));
  }

  async saveUsage(usage: readonly BudgetUsage[]): Promise<void> {
    this.open();
    for (const u of usage) this.usage.set(u.tenantId, { ...u });
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

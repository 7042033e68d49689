import type { GateAction } from "./gate.js";

// The GateChain's persistence port: budgets, KPI bounds, the latest KPI
// observations, killswitches and budget usage. Gates never call it: the
// service loads everything once into a GateSnapshot, writes go here first and
// then update the snapshot, so the hot path does no I/O.

export interface BudgetConfig {
  readonly limit: number;
  readonly windowSeconds: number;
  readonly updatedAt: string;
}

export interface KpiBound {
  readonly name: string;
  readonly min: number | null;
  readonly max: number | null;
}

export interface KpiObservation {
  readonly name: string;
  readonly value: number;
  readonly observedAt: string;
}

/** `*` as tenant or action means "every". */
export interface KillswitchKey {
  readonly tenantId: string;
  readonly action: GateAction | "*";
}

/** Units used in the budget window that starts at `windowStart` (ms since epoch). */
export interface BudgetUsage {
  readonly tenantId: string;
  readonly windowStart: number;
  readonly used: number;
}

export interface GateStoreContents {
  readonly budgets: ReadonlyArray<{ readonly tenantId: string } & BudgetConfig>;
  /** A tenant listed here has KPI config, possibly an empty list (which is "configured"). */
  readonly kpis: ReadonlyArray<{ readonly tenantId: string; readonly kpis: readonly KpiBound[] }>;
  readonly observations: ReadonlyArray<{ readonly tenantId: string } & KpiObservation>;
  readonly killswitches: readonly KillswitchKey[];
  readonly usage: readonly BudgetUsage[];
}

export interface GateConfigStore {
  load(): Promise<GateStoreContents>;
  putBudget(tenantId: string, budget: BudgetConfig): Promise<void>;
  /** Replaces the tenant's KPI set; observations of KPIs no longer in it are dropped with it. */
  putKpis(tenantId: string, kpis: readonly KpiBound[]): Promise<void>;
  /** Keeps only the latest observation per KPI. */
  putObservation(tenantId: string, observation: KpiObservation): Promise<void>;
  setKillswitch(key: KillswitchKey, on: boolean): Promise<void>;
  /** Upserts usage counters (write-behind from the budget gate). */
  saveUsage(usage: readonly BudgetUsage[]): Promise<void>;
  close(): Promise<void>;
}

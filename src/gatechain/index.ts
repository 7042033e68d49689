import { z } from "zod";
import { MemoryGateConfigStore } from "./store-memory.js";
import { SqliteGateConfigStore } from "./store-sqlite.js";
import type { GateConfigStore } from "./store.js";

// Public surface of the GateChain room.
export * from "./gate.js";
export * from "./store.js";
export { GateChain, GATE_DECISIONS_METRIC, type GateChainOptions, type Reservation } from "./chain.js";
export type { DecisionRecord } from "./decision-log.js";
export { GateChainService, gateError, type GateChainServiceOptions, type GateStatus, type BudgetStatus, type KpiStatus } from "./service.js";
export * from "./lease.js";
export { MemoryGateConfigStore, SqliteGateConfigStore };

export const gateStoreSpecSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("memory") }),
  z.object({ kind: z.literal("sqlite"), dir: z.string().min(1) }),
]);
export type GateStoreSpec = z.infer<typeof gateStoreSpecSchema>;

/** Exhaustive: an unknown kind fails at start, never falls through to memory. */
export function createGateConfigStore(spec: GateStoreSpec): GateConfigStore {
  const s = gateStoreSpecSchema.parse(spec);
  switch (s.kind) {
    case "memory":
      return new MemoryGateConfigStore();
    case "sqlite":
      return new SqliteGateConfigStore(s.dir);
    default: {
      const never: never = s;
      throw new Error(`unknown gate store kind ${JSON.stringify(never)}`);
    }
  }
}

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemoryGateConfigStore } from "../../src/gatechain/store-memory.js";
import { SqliteGateConfigStore } from "../../src/gatechain/store-sqlite.js";
import type { GateConfigStore } from "../../src/gatechain/store.js";
import { describeGateConfigStoreContract } from "./gatechain-store.contract.js";

describeGateConfigStoreContract("memory", async () => ({ store: new MemoryGateConfigStore() }));

describeGateConfigStoreContract("sqlite", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sy-gate-"));
  let current: GateConfigStore = new SqliteGateConfigStore(dir);
  return {
    store: current,
    reopen: async () => {
      await current.close();
      current = new SqliteGateConfigStore(dir);
      return current;
    },
    cleanup: async () => {
      await current.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

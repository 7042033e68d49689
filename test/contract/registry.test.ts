import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DB_FILE, openDb, type Db } from "../../src/embedded/db.js";
import { MemoryRegistry } from "../../src/registry/memory.js";
import { SqliteRegistry } from "../../src/registry/sqlite.js";
import { describeRegistryContract } from "./registry.contract.js";

describeRegistryContract("memory", async () => ({ registry: new MemoryRegistry() }));

describeRegistryContract("sqlite", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sy-reg-"));
  let db: Db = openDb(dir, DB_FILE, "registry");
  return {
    registry: new SqliteRegistry(db),
    reopen: async () => {
      db.close();
      db = openDb(dir, DB_FILE, "registry");
      return new SqliteRegistry(db);
    },
    cleanup: async () => {
      if (db.open) db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDb } from "../../src/embedded/db.js";
import { MemoryEventLog } from "../../src/log/memory.js";
import { SqliteEventLog } from "../../src/log/sqlite.js";
import { describeEventLogContract } from "./event-log.contract.js";

describeEventLogContract("memory", async () => ({ log: new MemoryEventLog() }));

describeEventLogContract("sqlite", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sy-log-"));
  return {
    log: new SqliteEventLog(openDb(dir, "log-0.db", "log"), true),
    reopen: async () => new SqliteEventLog(openDb(dir, "log-0.db", "log"), true),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

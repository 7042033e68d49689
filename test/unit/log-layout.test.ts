import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { shardFor, workerFor } from "../../src/actors/route.js";
import { DB_FILE, openDb } from "../../src/embedded/db.js";
import { LAYOUT_FILE, LayoutError, openLogLayout, ownedShards, readLogLayout } from "../../src/log/layout.js";
import { SqliteEventLog } from "../../src/log/sqlite.js";

function tmp(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), "sy-layout-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe("event log layout", () => {
  it("a new data dir gets the asked number of shard files, and keeps them on later starts", (t) => {
    const dir = tmp(t);
    assert.equal(readLogLayout(dir), undefined);
    assert.deepEqual(openLogLayout(dir, 3).shards, ["log-0.db", "log-1.db", "log-2.db"]);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, LAYOUT_FILE), "utf8")), { version: 1, shards: ["log-0.db", "log-1.db", "log-2.db"] });
    // ACTOR_WORKERS (and so the asked count) changed: the files a resource hashes to must not.
    assert.deepEqual(openLogLayout(dir, 1).shards, ["log-0.db", "log-1.db", "log-2.db"]);
    assert.deepEqual(openLogLayout(dir, 8).shards, ["log-0.db", "log-1.db", "log-2.db"]);
  });

  it("a data dir with events from before shards keeps switchyard.db as its only shard", async (t) => {
    const dir = tmp(t);
    // Before shards, switchyard.db held the registry and the events.
    const log = new SqliteEventLog(openDb(dir, DB_FILE, "all"), true);
    const ref = { tenant: "t1", kind: "thread", id: "old" } as const;
    await log.head(ref);
    await log.append([{ ref, event: { seq: 1, dedupeKey: null, bodyHash: "h", payload: { text: "kept" }, ts: 1 } }]);
    await log.close();
    assert.deepEqual(openLogLayout(dir, 4).shards, [DB_FILE]);
  });

  it("a data dir whose switchyard.db has no events (registry only) gets shard files", (t) => {
    const dir = tmp(t);
    openDb(dir, DB_FILE, "all").close();
    assert.deepEqual(openLogLayout(dir, 2).shards, ["log-0.db", "log-1.db"]);
  });

  it("refuses a damaged layout file with its path instead of guessing", (t) => {
    const dir = tmp(t);
    writeFileSync(join(dir, LAYOUT_FILE), "{not json");
    assert.throws(() => openLogLayout(dir, 2), (e: unknown) => e instanceof LayoutError && e.message.includes(LAYOUT_FILE));
    writeFileSync(join(dir, LAYOUT_FILE), JSON.stringify({ version: 1, shards: ["../escape.db"] }));
    assert.throws(() => readLogLayout(dir), LayoutError);
    writeFileSync(join(dir, LAYOUT_FILE), JSON.stringify({ version: 2, shards: ["log-0.db"] }));
    assert.throws(() => readLogLayout(dir), LayoutError);
  });

  it("every shard has exactly one owning worker, whatever the worker count", () => {
    for (const shards of [1, 2, 3, 4, 7, 8]) {
      for (const workers of [1, 2, 3, 4, 8]) {
        const owners = new Map<number, number>();
        for (let w = 0; w < workers; w++) for (const s of ownedShards(shards, w, workers)) {
          assert.equal(owners.has(s), false, `shard ${s} owned twice (${shards} shards, ${workers} workers)`);
          owners.set(s, w);
        }
        assert.equal(owners.size, shards);
      }
    }
  });

  it("fronts route a resource to the worker that owns its shard", () => {
    for (let i = 0; i < 500; i++) {
      const rkey = `t1/thread/th${i}`;
      for (const [workers, shards] of [[1, 2], [2, 2], [3, 2], [2, 5], [4, 8]] as const) {
        const w = workerFor(rkey, workers, shards);
        assert.ok(ownedShards(shards, w, workers).includes(shardFor(rkey, shards)), `${rkey}: ${workers} workers, ${shards} shards`);
      }
      // As many shards as workers: the same spread as before shards existed.
      assert.equal(workerFor(rkey, 4, 4), workerFor(rkey, 4));
    }
  });
});

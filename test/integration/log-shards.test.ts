import assert from "node:assert/strict";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import Database from "better-sqlite3";
import { shardFor } from "../../src/actors/route.js";
import { resourceKey } from "../../src/registry/ids.js";
import { randomTenant, spawnServer, tmpDataDir, type ChildServer } from "../helpers/server.js";

// Event log shards (src/log/layout.ts): with two actor workers every resource's
// events land in the one file its hash names, written by one worker only; the
// shard count is the data dir's, so a restart with another ACTOR_WORKERS reads
// and extends every thread without a gap. Real child processes on one DATA_DIR.

const THREADS = 12;
const PER_THREAD = 5;

async function makeThreads(s: ChildServer, token: string, tenant: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < THREADS; i++) {
    const r = await s.api("/chat/threads", { token, tenant, body: { title: `t${i}` } });
    assert.equal(r.status, 201);
    ids.push(((await r.json()) as { id: string }).id);
  }
  return ids;
}

async function post(s: ChildServer, token: string, tenant: string, thread: string, text: string): Promise<number> {
  const r = await s.api(`/chat/threads/${thread}/messages`, { token, tenant, body: { text, clientMsgId: text } });
  assert.equal(r.status, 201, await r.clone().text());
  return ((await r.json()) as { seq: number }).seq;
}

async function texts(s: ChildServer, token: string, tenant: string, thread: string): Promise<string[]> {
  const r = await s.api(`/chat/threads/${thread}/messages?after=0&limit=500`, { token, tenant });
  assert.equal(r.status, 200);
  const page = (await r.json()) as { items: { seq: number; text: string }[] };
  assert.deepEqual(page.items.map((m) => m.seq), page.items.map((_, i) => i + 1), "gapless from 1");
  return page.items.map((m) => m.text);
}

function eventsIn(file: string): Map<string, number> {
  const db = new Database(file, { readonly: true });
  try {
    const rows = db.prepare("SELECT s.rkey AS rkey, COUNT(*) AS n FROM events e JOIN streams s ON s.sid = e.sid GROUP BY s.rkey").all() as { rkey: string; n: number }[];
    return new Map(rows.map((r) => [r.rkey, r.n]));
  } finally {
    db.close();
  }
}

function tablesIn(file: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
  } finally {
    db.close();
  }
}

describe("event log shards", () => {
  it("two workers write two files, each resource in its hashed shard; other worker counts read and extend them", async (t) => {
    const dataDir = tmpDataDir();
    t.after(() => rmSync(dataDir, { recursive: true, force: true }));
    const tenant = randomTenant();

    let s = await spawnServer({ DATA_DIR: dataDir, ACTOR_WORKERS: "2" });
    t.after(() => s.kill("SIGKILL"));
    const token = await s.token(tenant);
    const threads = await makeThreads(s, token, tenant);
    await Promise.all(threads.map(async (th) => {
      for (let i = 1; i <= PER_THREAD; i++) assert.equal(await post(s, token, tenant, th, `${th}-a${i}`), i);
    }));
    assert.equal(await s.kill("SIGTERM"), 0, "clean drain");

    const files = [join(dataDir, "log-0.db"), join(dataDir, "log-1.db")];
    assert.ok(files.every((f) => existsSync(f)), "one file per shard");
    const perShard = files.map(eventsIn);
    for (const th of threads) {
      const rkey = resourceKey({ tenant, kind: "thread", id: th });
      const home = shardFor(rkey, 2);
      assert.equal(perShard[home]?.get(rkey), PER_THREAD, `${th} has all its events in shard ${home}`);
      assert.equal(perShard[1 - home]?.get(rkey), undefined, `${th} has nothing in the other shard`);
    }
    assert.ok(perShard.every((m) => m.size > 0), "both shards were written (12 threads over 2 shards)");
    // Each file carries only its own kind's tables: the registry in switchyard.db, events in the shards.
    assert.deepEqual(tablesIn(join(dataDir, "switchyard.db")), ["resources"]);
    for (const f of files) assert.deepEqual(tablesIn(f), ["events", "streams"], f);

    // One worker now owns both shards; three workers leave one idle (and say so).
    for (const workers of ["1", "3"]) {
      s = await spawnServer({ DATA_DIR: dataDir, ACTOR_WORKERS: workers });
      for (const th of threads) {
        const before = await texts(s, token, tenant, th);
        assert.equal(before[0], `${th}-a1`);
        assert.equal(await post(s, token, tenant, th, `${th}-w${workers}`), before.length + 1, "seq continues after the restart");
        // A retry of an earlier message is still recognised, whichever worker owns the shard now.
        const retry = await s.api(`/chat/threads/${th}/messages`, { token, tenant, body: { text: `${th}-a2`, clientMsgId: `${th}-a2` } });
        assert.equal(retry.status, 200, "duplicate answered with the original");
        assert.equal(((await retry.json()) as { seq: number }).seq, 2);
      }
      if (workers === "3") assert.ok(s.output.some((l) => l.includes("fewer shards than ACTOR_WORKERS")), "idle workers are logged");
      assert.equal(await s.kill("SIGTERM"), 0);
    }
    const after = files.map(eventsIn);
    for (const th of threads) {
      const rkey = resourceKey({ tenant, kind: "thread", id: th });
      assert.equal(after[shardFor(rkey, 2)]?.get(rkey), PER_THREAD + 2, `${th}: both restarts appended to its own shard`);
    }
  });
});

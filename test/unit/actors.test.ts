import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Committer } from "../../src/actors/committer.js";
import { ResourceActor } from "../../src/actors/resource-actor.js";
import type { PublishInput, PublishOutcome } from "../../src/actors/types.js";
import { openDb } from "../../src/embedded/db.js";
import type { AppendEntry, EventLog, StoredEvent, StreamHead } from "../../src/log/event-log.js";
import { MemoryEventLog } from "../../src/log/memory.js";
import { SqliteEventLog } from "../../src/log/sqlite.js";
import type { ResourceRef } from "../../src/registry/ids.js";

/** Counts the appends that reach the real log; optionally refuses entries of one resource. */
class CountingLog implements EventLog {
  appends = 0;
  entries = 0;
  refuse: ((e: AppendEntry) => boolean) | undefined;
  constructor(private readonly inner: EventLog) {}
  head(ref: ResourceRef): Promise<StreamHead> {
    return this.inner.head(ref);
  }
  async append(entries: readonly AppendEntry[]): Promise<void> {
    this.appends++;
    this.entries += entries.length;
    if (this.refuse && entries.some(this.refuse)) throw new Error("refused by test");
    return this.inner.append(entries);
  }
  read(ref: ResourceRef, afterSeq: number, limit: number): Promise<StoredEvent[]> {
    return this.inner.read(ref, afterSeq, limit);
  }
  findByDedupeKey(ref: ResourceRef, key: string): Promise<StoredEvent | undefined> {
    return this.inner.findByDedupeKey(ref, key);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

const msg = (text: string, clientMsgId?: string): PublishInput => ({ kind: "thread", senderId: "alice", text, clientMsgId });
const seqOf = (o: PublishOutcome): number => (o.status === "conflict" ? -1 : o.seq);

const impls: [string, () => { log: EventLog; cleanup(): void }][] = [
  ["memory", () => ({ log: new MemoryEventLog(), cleanup() {} })],
  [
    "sqlite",
    () => {
      const dir = mkdtempSync(join(tmpdir(), "sy-actor-"));
      const log = new SqliteEventLog(openDb(dir, "log-0.db", "log"), true);
      return { log, cleanup: () => void log.close().then(() => rmSync(dir, { recursive: true, force: true })) };
    },
  ],
];

for (const [label, make] of impls) {
  describe(`ResourceActor over the ${label} log`, () => {
    it("concurrent publishes get gapless seqs in arrival order, emitted only after the append", async (t) => {
      const { log, cleanup } = make();
      t.after(cleanup);
      const counting = new CountingLog(log);
      const ref: ResourceRef = { tenant: "t1", kind: "thread", id: "th1" };
      const emitted: number[] = [];
      const actor = new ResourceActor(ref, counting, new Committer(counting), (_r, e) => {
        emitted.push(e.seq);
      });
      const outcomes = await Promise.all(Array.from({ length: 200 }, (_, i) => actor.publish(msg(`m${i}`))));
      assert.deepEqual(outcomes.map(seqOf), Array.from({ length: 200 }, (_, i) => i + 1));
      assert.deepEqual(emitted, Array.from({ length: 200 }, (_, i) => i + 1));
      const stored = await log.read(ref, 0, 500);
      assert.deepEqual(stored.map((e) => e.payload.text), Array.from({ length: 200 }, (_, i) => `m${i}`));
      // The mailbox is taken a batch at a time: far fewer appends than messages.
      assert.ok(counting.appends < 20, `appends=${counting.appends}`);
      assert.equal((await actor.currentHead()).lastSeq, 200);
    });

    it("dedupes within one batch and against the log; a different body is a conflict", async (t) => {
      const { log, cleanup } = make();
      t.after(cleanup);
      const ref: ResourceRef = { tenant: "t1", kind: "thread", id: "th2" };
      const actor = new ResourceActor(ref, log, new Committer(log), () => {});
      // Same batch: the three calls land in one mailbox turn.
      const [a, b, c] = await Promise.all([actor.publish(msg("hi", "k1")), actor.publish(msg("hi", "k1")), actor.publish(msg("other", "k1"))]);
      assert.equal(a?.status, "created");
      assert.equal(b?.status, "duplicate");
      assert.equal(c?.status, "conflict");
      assert.ok(a?.status === "created" && b?.status === "duplicate" && JSON.parse(b.json).id === JSON.parse(a.json).id);
      assert.ok(c?.status === "conflict" && c.seq === 1);
      // Later batch: found in the log.
      const again = await actor.publish(msg("hi", "k1"));
      assert.ok(again.status === "duplicate" && again.seq === 1);
      const conflict = await actor.publish(msg("changed", "k1"));
      assert.deepEqual(conflict, { status: "conflict", seq: 1 });
      const next = await actor.publish(msg("new", "k2"));
      assert.equal(seqOf(next), 2, "duplicates and conflicts take no seq");
      // A fresh actor (e.g. after eviction or restart) continues from the log.
      const reborn = new ResourceActor(ref, log, new Committer(log), () => {});
      assert.equal(seqOf(await reborn.publish(msg("after"))), 3);
      assert.equal((await reborn.publish(msg("hi", "k1"))).status, "duplicate");
    });
  });
}

describe("Committer (group commit)", () => {
  it("batches many actors' appends into few log appends", async () => {
    const counting = new CountingLog(new MemoryEventLog());
    const committer = new Committer(counting);
    const actors = Array.from({ length: 100 }, (_, i) => new ResourceActor({ tenant: "t1", kind: "canvas", id: `c${i}` }, counting, committer, () => {}));
    const outcomes = await Promise.all(actors.flatMap((a) => [1, 2, 3].map((n) => a.publish({ kind: "canvas", senderId: "s", type: "draw", data: { n } }))));
    assert.ok(outcomes.every((o) => o.status === "created"));
    assert.equal(counting.entries, 300);
    assert.ok(counting.appends <= 6, `300 events from 100 actors took ${counting.appends} appends`);
    for (const a of actors) assert.equal((await a.currentHead()).lastSeq, 3);
  });

  it("a refused shared batch is retried per actor so one bad resource does not fail its neighbours", async () => {
    const counting = new CountingLog(new MemoryEventLog());
    counting.refuse = (e) => e.ref.id === "bad";
    const committer = new Committer(counting);
    const good = new ResourceActor({ tenant: "t1", kind: "canvas", id: "good" }, counting, committer, () => {});
    const bad = new ResourceActor({ tenant: "t1", kind: "canvas", id: "bad" }, counting, committer, () => {});
    const [g, b] = await Promise.allSettled([good.publish({ kind: "canvas", senderId: "s", type: "x", data: 1 }), bad.publish({ kind: "canvas", senderId: "s", type: "x", data: 1 })]);
    assert.equal(g?.status, "fulfilled");
    assert.equal(b?.status, "rejected");
    // The failed actor did not advance: after the store recovers it continues gaplessly.
    counting.refuse = undefined;
    assert.equal(seqOf(await bad.publish({ kind: "canvas", senderId: "s", type: "x", data: 2 })), 1);
  });

  it("reports each durable commit (size, duration) and each append's wait, retries alone included, failures not", async () => {
    const counting = new CountingLog(new MemoryEventLog());
    counting.refuse = (e) => e.ref.id === "bad";
    const commits: Array<{ seconds: number; events: number }> = [];
    const waits: number[] = [];
    const committer = new Committer(counting, 2000, 0, {
      committed: (seconds, events) => commits.push({ seconds, events }),
      appended: (seconds) => waits.push(seconds),
    });
    const entry = (id: string, seq = 1): AppendEntry => ({ ref: { tenant: "t", kind: "canvas", id }, event: { seq, dedupeKey: null, bodyHash: "h", payload: {}, ts: 0 } });
    await Promise.all([committer.append([entry("a"), entry("a", 2)]), committer.append([entry("b")])]);
    assert.deepEqual(commits.map((c) => c.events), [3], "two appends, one commit of three events");
    assert.equal(waits.length, 2);
    // The shared batch is refused for "bad"; "c" then commits alone and is reported, "bad" is not.
    const settled = await Promise.allSettled([committer.append([entry("bad")]), committer.append([entry("c")])]);
    assert.deepEqual(settled.map((r) => r.status), ["rejected", "fulfilled"]);
    assert.deepEqual(commits.map((c) => c.events), [3, 1]);
    assert.equal(waits.length, 3);
    assert.ok(commits.every((c) => c.seconds >= 0) && waits.every((w) => w >= 0));
    // A wait ends with its commit, so it is never shorter than the commit it ended with.
    assert.ok((waits[2] as number) >= (commits[1] as { seconds: number }).seconds);
  });

  it("honours maxBatch", async () => {
    const counting = new CountingLog(new MemoryEventLog());
    const committer = new Committer(counting, 10);
    await Promise.all(Array.from({ length: 50 }, (_, i) => committer.append([{ ref: { tenant: "t", kind: "canvas", id: `c${i}` }, event: { seq: 1, dedupeKey: null, bodyHash: "h", payload: {}, ts: 0 } }])));
    assert.equal(counting.appends, 5);
  });

  it("with a window, a commit starts no sooner than windowMs after the previous one; after a quiet spell at once", async () => {
    const starts: number[] = [];
    const counting = new CountingLog(new MemoryEventLog());
    const timed: EventLog = Object.assign(Object.create(counting) as EventLog, {
      append: (entries: readonly AppendEntry[]) => {
        starts.push(performance.now());
        return counting.append(entries);
      },
    });
    const committer = new Committer(timed, 2000, 40);
    const entry = (i: number): AppendEntry => ({ ref: { tenant: "t", kind: "canvas", id: `w${i}` }, event: { seq: 1, dedupeKey: null, bodyHash: "h", payload: {}, ts: 0 } });
    const t0 = performance.now();
    await committer.append([entry(0)]);
    assert.ok(performance.now() - t0 < 30, "the first commit does not wait");
    // A trickle right after: these wait out the window and go together.
    await Promise.all(Array.from({ length: 10 }, async (_, i) => {
      await new Promise((r) => setTimeout(r, i));
      await committer.append([entry(i + 1)]);
    }));
    assert.equal(counting.appends, 2, "the trickle went in one commit");
    assert.ok((starts[1] as number) - (starts[0] as number) >= 39, `second commit ${(starts[1] as number) - (starts[0] as number)} ms after the first`);
    // After a quiet spell longer than the window, the next commit starts at once.
    await new Promise((r) => setTimeout(r, 60));
    const t1 = performance.now();
    await committer.append([entry(99)]);
    assert.ok(performance.now() - t1 < 30, "no wait after a quiet spell");
    assert.equal(counting.entries, 12);
  });
});

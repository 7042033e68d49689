import assert from "node:assert/strict";
import { describe, it, before, after } from "node:test";
import { randomBytes } from "node:crypto";
import { LogConflictError, type EventLog, type StoredEvent } from "../../src/log/event-log.js";
import type { ResourceRef } from "../../src/registry/ids.js";

export const ev = (seq: number, dedupeKey: string | null = null, text = `m${seq}`): StoredEvent => ({
  seq,
  dedupeKey,
  bodyHash: `h-${text}`,
  payload: { seq, text },
  ts: 1_700_000_000_000 + seq,
});

/**
 * The behaviour every EventLog must have. `make` returns a fresh log and a
 * `reopen` that closes it and opens the same storage again (durability), or
 * undefined where the implementation is not durable.
 */
export function describeEventLogContract(
  label: string,
  make: () => Promise<{ log: EventLog; reopen?: () => Promise<EventLog>; cleanup?: () => Promise<void> }>,
): void {
  describe(`EventLog contract: ${label}`, () => {
    let log: EventLog;
    let reopen: (() => Promise<EventLog>) | undefined;
    let cleanup: (() => Promise<void>) | undefined;
    const tenant = `t${randomBytes(4).toString("hex")}`;
    const ref = (id: string, kind: ResourceRef["kind"] = "thread"): ResourceRef => ({ tenant, kind, id });

    before(async () => {
      ({ log, reopen, cleanup } = await make());
    });
    after(async () => {
      await log.close();
      await cleanup?.();
    });

    it("a new stream has lastSeq 0 and a stable epoch", async () => {
      const a = await log.head(ref("fresh"));
      const b = await log.head(ref("fresh"));
      assert.equal(a.lastSeq, 0);
      assert.equal(typeof a.epoch, "string");
      assert.ok(a.epoch.length > 0);
      assert.equal(a.epoch, b.epoch);
    });

    it("appends in seq order and reads ranges back", async () => {
      const r = ref("ranges");
      await log.append([1, 2, 3].map((s) => ({ ref: r, event: ev(s) })));
      await log.append([{ ref: r, event: ev(4) }]);
      assert.equal((await log.head(r)).lastSeq, 4);
      assert.deepEqual((await log.read(r, 0, 10)).map((e) => e.seq), [1, 2, 3, 4]);
      assert.deepEqual((await log.read(r, 2, 10)).map((e) => e.seq), [3, 4]);
      assert.deepEqual((await log.read(r, 1, 2)).map((e) => e.seq), [2, 3]);
      assert.deepEqual(await log.read(r, 4, 10), []);
      const [first] = await log.read(r, 0, 1);
      assert.deepEqual(first?.payload, { seq: 1, text: "m1" });
    });

    it("refuses a gap or a repeated seq (stale owner) and changes nothing", async () => {
      const r = ref("cas");
      await log.append([{ ref: r, event: ev(1) }]);
      await assert.rejects(log.append([{ ref: r, event: ev(3) }]), LogConflictError);
      await assert.rejects(log.append([{ ref: r, event: ev(1, null, "other") }]), LogConflictError);
      await assert.rejects(log.append([{ ref: r, event: ev(2) }, { ref: r, event: ev(4) }]), LogConflictError);
      assert.equal((await log.head(r)).lastSeq, 1);
      assert.deepEqual((await log.read(r, 0, 10)).map((e) => e.seq), [1]);
    });

    it("finds events by dedupe key and refuses a reused key", async () => {
      const r = ref("dedupe");
      await log.append([{ ref: r, event: ev(1, "k1") }, { ref: r, event: ev(2, "k2") }]);
      assert.equal((await log.findByDedupeKey(r, "k2"))?.seq, 2);
      assert.equal(await log.findByDedupeKey(r, "nope"), undefined);
      await assert.rejects(log.append([{ ref: r, event: ev(3, "k1") }]), LogConflictError);
    });

    it("keeps resources and tenants apart, even with equal ids", async () => {
      const t = ref("same", "thread");
      const c = ref("same", "canvas");
      const other: ResourceRef = { tenant: `${tenant}x`, kind: "thread", id: "same" };
      await log.append([{ ref: t, event: ev(1, "k") }, { ref: c, event: ev(1, "k") }]);
      assert.equal((await log.head(other)).lastSeq, 0);
      assert.deepEqual(await log.read(other, 0, 10), []);
      assert.equal(await log.findByDedupeKey(other, "k"), undefined);
      assert.equal((await log.head(c)).lastSeq, 1);
    });

    it("one batch may span several resources", async () => {
      const a = ref("batch-a");
      const b = ref("batch-b");
      await log.append([{ ref: a, event: ev(1) }, { ref: b, event: ev(1) }, { ref: a, event: ev(2) }]);
      assert.equal((await log.head(a)).lastSeq, 2);
      assert.equal((await log.head(b)).lastSeq, 1);
    });

    it("survives a reopen with history, seq and epoch intact", async (t) => {
      if (!reopen) return t.skip("not a durable implementation");
      const r = ref("durable");
      await log.append([{ ref: r, event: ev(1, "d1") }, { ref: r, event: ev(2) }]);
      const epoch = (await log.head(r)).epoch;
      log = await reopen();
      const head = await log.head(r);
      assert.equal(head.lastSeq, 2);
      assert.equal(head.epoch, epoch);
      assert.equal((await log.findByDedupeKey(r, "d1"))?.seq, 1);
      await log.append([{ ref: r, event: ev(3) }]);
      assert.deepEqual((await log.read(r, 0, 10)).map((e) => e.seq), [1, 2, 3]);
    });
  });
}

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { jetstreamManager } from "@nats-io/jetstream";
import { NatsBus } from "../../src/bus/nats.js";
import { subjects } from "../../src/bus/subjects.js";
import { LogConflictError, LogUnavailableError, type StoredEvent } from "../../src/log/event-log.js";
import { JetStreamEventLog } from "../../src/log/jetstream.js";
import type { ResourceRef } from "../../src/registry/ids.js";
import { natsSkipReason, startNatsServer, type TestServer } from "../helpers/nats-server.js";
import { eventually } from "./bus.contract.js";
import { describeEventLogContract, ev } from "./event-log.contract.js";

const skip = natsSkipReason();
let server: TestServer;
const buses: NatsBus[] = [];

before(async () => {
  if (skip) return;
  server = await startNatsServer();
});
after(async () => {
  for (const b of buses) await b.close().catch(() => undefined);
  await server?.destroy();
});

async function bus(): Promise<NatsBus> {
  const b = await NatsBus.connect({ servers: server.url, reconnectTimeWaitMs: 100 });
  buses.push(b);
  return b;
}

async function dropStream(b: NatsBus, prefix: string): Promise<void> {
  const jsm = await jetstreamManager(b.connection);
  await jsm.streams.delete(subjects(prefix).logStream).catch(() => undefined);
}

if (!skip) {
  describeEventLogContract("jetstream", async () => {
    const prefix = `t${randomBytes(4).toString("hex")}`;
    const b = await bus();
    return {
      log: await JetStreamEventLog.open(b.connection, { prefix }),
      // A new instance (new connection, no cached tips) over the same stream: what a restarted node sees.
      reopen: async () => JetStreamEventLog.open((await bus()).connection, { prefix }),
      cleanup: () => dropStream(b, prefix),
    };
  });
}

const tagged = (seq: number, writer: string, n: number): StoredEvent => ({
  seq,
  dedupeKey: `${writer}-${n}`,
  bodyHash: `h-${writer}-${n}`,
  payload: { writer, n },
  ts: 1_700_000_000_000 + seq,
});

describe("JetStreamEventLog: owners, failures, cost", { skip }, () => {
  const prefix = `t${randomBytes(4).toString("hex")}`;
  const tenant = "acme";
  const ref = (id: string): ResourceRef => ({ tenant, kind: "thread", id });
  let a: JetStreamEventLog;
  let b: JetStreamEventLog;
  let busA: NatsBus;

  before(async () => {
    busA = await bus();
    const busB = await bus();
    a = await JetStreamEventLog.open(busA.connection, { prefix, timeoutMs: 1_000, isConnected: () => busA.status() === "connected" });
    b = await JetStreamEventLog.open(busB.connection, { prefix, timeoutMs: 1_000, publishAttempts: 1 });
  });
  after(() => dropStream(busA, prefix));

  it("refuses a stale owner, also when its msg id collides with the winner's", async () => {
    const r = ref("stale");
    await a.head(r);
    await b.head(r);
    await a.append([{ ref: r, event: tagged(1, "A", 1) }]);
    // Same seq → same Nats-Msg-Id as A's event: the server says "duplicate"; the log must not believe it.
    await assert.rejects(b.append([{ ref: r, event: tagged(1, "B", 1) }]), LogConflictError);
    await a.append([{ ref: r, event: tagged(2, "A", 2) }]);
    const head = await b.head(r);
    assert.equal(head.lastSeq, 2);
    await b.append([{ ref: r, event: tagged(3, "B", 3) }]);
    // Now A is the stale one: its cached tip points at seq 2's stream position.
    await assert.rejects(a.append([{ ref: r, event: tagged(3, "A", 3) }]), LogConflictError);
    const all = await a.read(r, 0, 10);
    assert.deepEqual(all.map((e) => [e.seq, e.payload.writer]), [[1, "A"], [2, "A"], [3, "B"]]);
  });

  it("a retried append whose first write landed (lost ack) succeeds without a copy", async () => {
    const r = ref("retry");
    const again = await JetStreamEventLog.open((await bus()).connection, { prefix });
    await again.head(r);
    // The first attempt "landed" (written here through another instance), but `again` never saw the ack.
    await a.append([{ ref: r, event: ev(1) }]);
    await again.append([{ ref: r, event: ev(1) }]);
    assert.equal((await a.head(r)).lastSeq, 1);
    assert.deepEqual((await a.read(r, 0, 10)).map((e) => e.seq), [1]);
    // Once its key is durable, the same event with a dedupe key is refused, not stored again.
    await a.append([{ ref: r, event: ev(2, "k") }]);
    await assert.rejects(again.append([{ ref: r, event: ev(3, "k") }]), LogConflictError);
    assert.equal((await a.head(r)).lastSeq, 2);
  });

  it("two owners racing on one resource: one winner per seq, no gap, no duplicate", async () => {
    const r = ref("race");
    const acked = new Map<number, string>();
    const perWriter = 40;
    const run = async (log: JetStreamEventLog, writer: string): Promise<number> => {
      let n = 0;
      let conflicts = 0;
      let last = (await log.head(r)).lastSeq;
      while (n < perWriter) {
        const size = 1 + (n % 3);
        const batch = Array.from({ length: Math.min(size, perWriter - n) }, (_, i) => ({ ref: r, event: tagged(last + 1 + i, writer, n + i) }));
        try {
          await log.append(batch);
          for (const { event } of batch) {
            assert.equal(acked.has(event.seq), false, `seq ${event.seq} acknowledged twice`);
            acked.set(event.seq, `${writer}-${event.payload.n}`);
          }
          n += batch.length;
          last += batch.length;
        } catch (e) {
          assert.ok(e instanceof LogConflictError, `unexpected ${String(e)}`);
          conflicts++;
          last = (await log.head(r)).lastSeq;
          // Events of a refused batch may be partly durable (a prefix); the writer skips what is there.
          const mine = (await log.read(r, 0, 10_000)).filter((x) => x.payload.writer === writer).length;
          n = Math.max(n, mine);
        }
      }
      return conflicts;
    };
    const [ca, cb] = await Promise.all([run(a, "A"), run(b, "B")]);
    const stored = await a.read(r, 0, 10_000);
    assert.deepEqual(stored.map((e) => e.seq), Array.from({ length: stored.length }, (_, i) => i + 1), "gapless from 1");
    const ids = stored.map((e) => `${String(e.payload.writer)}-${String(e.payload.n)}`);
    assert.equal(new Set(ids).size, ids.length, "no event stored twice");
    for (const [seq, id] of acked) assert.equal(ids[seq - 1], id, `acknowledged seq ${seq} holds its event`);
    assert.equal(stored.length, 2 * perWriter);
    assert.ok(ca + cb > 0, "the owners did collide");
  });

  it("reads any range by locating stream positions among other resources' messages", async () => {
    const r = ref("interleaved");
    const other = ref("noise");
    await a.head(r);
    await a.head(other);
    // Uneven runs of another resource's messages between ours, so stream seq ≠ resource seq.
    let noise = 0;
    for (let s = 1; s <= 60; s++) {
      const extra = Array.from({ length: s % 4 }, () => ({ ref: other, event: ev(++noise) }));
      await a.append([{ ref: r, event: ev(s) }, ...extra]);
    }
    for (const [after, limit] of [[0, 5], [7, 3], [30, 20], [55, 100], [59, 1], [60, 5]] as const) {
      const got = await a.read(r, after, limit);
      const want = Array.from({ length: Math.max(0, Math.min(limit, 60 - after)) }, (_, i) => after + i + 1);
      assert.deepEqual(got.map((e) => e.seq), want, `read(${after}, ${limit})`);
    }
  });

  it("NATS down: appends fail with LogUnavailableError, nothing acknowledged is lost, works after restart", async () => {
    const r = ref("outage");
    await a.head(r);
    await a.append([{ ref: r, event: tagged(1, "A", 1) }]);
    await b.head(r);
    await server.stop();
    await eventually(() => busA.status() === "reconnecting", 5_000, "bus notices");
    const t0 = Date.now();
    await assert.rejects(a.append([{ ref: r, event: tagged(2, "A", 2) }]), LogUnavailableError);
    const failFast = Date.now() - t0;
    // Without the status hint the call waits out its deadline, then still refuses (never a false ack).
    await assert.rejects(b.append([{ ref: r, event: tagged(2, "B", 2) }]), LogUnavailableError);
    await assert.rejects(b.read(r, 0, 10), LogUnavailableError);
    await server.start();
    await eventually(() => busA.status() === "connected", 10_000, "reconnect");
    const head = await a.head(r);
    assert.ok(head.lastSeq >= 1);
    const events = await a.read(r, 0, 10);
    assert.equal(events[0]?.payload.writer, "A");
    await a.append([{ ref: r, event: tagged(head.lastSeq + 1, "A", 9) }]);
    assert.equal((await a.head(r)).lastSeq, head.lastSeq + 1);
    assert.ok(failFast < 500, `fail-fast took ${failFast} ms`);
  });

  it("measures append latency (diagnostic)", async (t) => {
    const rows: string[] = [];
    for (const [resources, perResource] of [[1, 1], [1, 10], [1, 50], [10, 5]] as const) {
      const refs = Array.from({ length: resources }, (_, i) => ref(`lat-${resources}-${perResource}-${i}`));
      for (const x of refs) await a.head(x);
      const rounds = 10;
      const t0 = performance.now();
      for (let k = 0; k < rounds; k++) {
        await a.append(refs.flatMap((x) => Array.from({ length: perResource }, (_, i) => ({ ref: x, event: ev(k * perResource + i + 1, `d${k}-${i}`) }))));
      }
      const ms = (performance.now() - t0) / rounds;
      rows.push(`${resources}x${perResource}: ${ms.toFixed(2)} ms/batch, ${((ms * 1000) / (resources * perResource)).toFixed(0)} us/event`);
    }
    const r = ref("lat-1-50-0");
    const t1 = performance.now();
    for (let i = 0; i < 10; i++) await a.read(r, 400 + i, 100);
    const t2 = performance.now();
    for (let i = 0; i < 10; i++) await a.read(r, 495, 5);
    rows.push(`read 100 of 500: ${((t2 - t1) / 10).toFixed(2)} ms; read 5 near head: ${((performance.now() - t2) / 10).toFixed(2)} ms`);
    for (const row of rows) t.diagnostic(row);
    assert.equal((await a.head(r)).lastSeq, 500);
  });
});

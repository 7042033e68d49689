import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setImmediate as nextTurn } from "node:timers/promises";
import { FlushQueue, type Flushable } from "../../src/front/realtime/flush-queue.js";
import { SseStream, type SseResponse } from "../../src/front/realtime/sse-stream.js";

/** Records what uWS would send: each cork is one send of the chunks written inside it. */
class RecordingResponse {
  readonly sends: string[][] = [];
  accept = true;
  ended = false;
  writable: (() => boolean) | undefined;
  private batch: string[] | undefined;

  cork(cb: () => void): this {
    this.batch = [];
    cb();
    if (this.batch.length > 0) this.sends.push(this.batch);
    this.batch = undefined;
    return this;
  }
  write(chunk: string | Buffer): boolean {
    assert.ok(this.batch, "a write outside cork is a send of its own");
    this.batch.push(String(chunk));
    return this.accept;
  }
  end(): this {
    this.ended = true;
    return this;
  }
  onWritable(h: (offset: number) => boolean): this {
    this.writable = () => h(0);
    return this;
  }
}

function stream(maxQueued = 1 << 20) {
  const res = new RecordingResponse();
  const errors: unknown[] = [];
  let ended = 0;
  // The recorder implements the four methods a stream calls; uWS's full response type has many more.
  const s = new SseStream(res as unknown as SseResponse, { kind: "canvas", tenantId: "t", id: "c" } as never, maxQueued, new FlushQueue(128, (e) => errors.push(e)), () => ended++);
  return { s, res, errors, ended: () => ended };
}

describe("SSE stream writes", () => {
  it("frames written in one turn leave together, in order, in one send on the next turn", async () => {
    const { s, res } = stream();
    s.write("a\n\n");
    s.write("b\n\n");
    s.write("c\n\n");
    assert.equal(res.sends.length, 0, "nothing is sent before the flush");
    await nextTurn();
    assert.deepEqual(res.sends, [["a\n\n", "b\n\n", "c\n\n"]]);
    s.write("d\n\n");
    await nextTurn();
    assert.deepEqual(res.sends[1], ["d\n\n"]);
  });

  it("16 KB or more queued goes out at once", () => {
    const { s, res } = stream();
    s.write("x".repeat(10_000));
    assert.equal(res.sends.length, 0);
    s.write("y".repeat(7_000));
    assert.equal(res.sends.length, 1);
    assert.deepEqual(res.sends[0]!.map((c) => c.length), [10_000, 7_000]);
  });

  it("under backpressure frames wait for onWritable; past the bound the stream ends without them", async () => {
    const { s, res, ended } = stream(100);
    res.accept = false;
    s.write("1234567890");
    s.write("abc");
    await nextTurn();
    assert.deepEqual(res.sends, [["1234567890"]], "uWS keeps the chunk it reports backpressure on; the next waits");
    res.accept = true;
    s.write("queued-1");
    s.write("queued-2");
    await nextTurn();
    assert.equal(res.sends.length, 1, "a blocked stream is not flushed by the queue");
    assert.equal(res.writable?.(), true);
    assert.deepEqual(res.sends[1], ["abc", "queued-1", "queued-2"]);

    res.accept = false;
    s.write("z");
    await nextTurn();
    s.write("w".repeat(101));
    assert.equal(s.closed, true);
    assert.equal(res.ended, true);
    assert.equal(ended(), 1);
    assert.ok(!res.sends.flat().some((c) => c.startsWith("w")), "the frame that overran the bound was not sent");
  });

  it("ending sends what is queued first; an aborted stream sends nothing more", async () => {
    const a = stream();
    a.s.write("last\n\n");
    a.s.end();
    assert.deepEqual(a.res.sends, [["last\n\n"]]);
    assert.equal(a.res.ended, true);
    await nextTurn();
    assert.equal(a.res.sends.length, 1, "the queued flush of an ended stream writes nothing");

    const b = stream();
    b.s.write("never\n\n");
    b.s.aborted();
    await nextTurn();
    assert.deepEqual(b.res.sends, []);
    assert.equal(b.ended(), 1);
  });
});

describe("flush queue", () => {
  it("flushes a slice per turn, and the loop runs other work between slices", async () => {
    const order: string[] = [];
    const q = new FlushQueue(128, (e) => assert.fail(String(e)));
    const writers: Flushable[] = Array.from({ length: 300 }, (_, i) => ({
      flush: () => {
        order.push(`w${i}`);
        if (i === 0) setImmediate(() => order.push("other"));
      },
    }));
    for (const w of writers) q.add(w);
    assert.equal(q.length, 300);
    await nextTurn();
    assert.equal(order.length, 128);
    while (q.length > 0) await nextTurn();
    assert.equal(order.indexOf("other"), 128, "work queued during the first slice ran before the second");
    assert.deepEqual(order.filter((o) => o !== "other"), writers.map((_, i) => `w${i}`));
  });

  it("a long queue is compacted as it drains, and writers queued meanwhile keep their turn", async () => {
    const q = new FlushQueue(5_000, (e) => assert.fail(String(e)));
    const order: number[] = [];
    for (let i = 0; i < 12_000; i++) q.add({ flush: () => order.push(i) });
    await nextTurn();
    assert.equal(q.length, 7_000);
    q.add({ flush: () => order.push(-1) });
    while (q.length > 0) await nextTurn();
    assert.deepEqual(order, [...Array.from({ length: 12_000 }, (_, i) => i), -1]);
  });

  it("a writer that throws is reported and the rest are still flushed", async () => {
    const errors: unknown[] = [];
    const q = new FlushQueue(2, (e) => errors.push(e));
    const done: number[] = [];
    q.add({ flush: () => done.push(1) });
    q.add({ flush: () => { throw new Error("aborted response"); } });
    q.add({ flush: () => done.push(3) });
    while (q.length > 0) await nextTurn();
    assert.deepEqual(done, [1, 3]);
    assert.equal(errors.length, 1);
  });
});

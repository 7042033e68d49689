import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InProcessActorHost } from "../../src/actors/in-process-host.js";
import type { StoredEvent } from "../../src/log/event-log.js";
import { MemoryEventLog } from "../../src/log/memory.js";
import type { ResourceRef } from "../../src/registry/ids.js";

const ref: ResourceRef = { tenant: "t1", kind: "thread", id: "th1" };

describe("InProcessActorHost", () => {
  it("evicts idle actors and a reloaded actor continues the sequence from the log", async () => {
    const log = new MemoryEventLog();
    const emitted: number[] = [];
    const host = new InProcessActorHost(log, (_r, e: StoredEvent) => emitted.push(e.seq), 1000);
    for (let i = 0; i < 3; i++) await host.publish(ref, { kind: "thread", senderId: "a", text: `m${i}`, clientMsgId: `c${i}` });
    assert.equal(host.size, 1);
    await new Promise((r) => setImmediate(r)); // let the actor's run loop finish its turn
    assert.equal(host.evictIdle(Date.now()), 0, "a recently used actor stays");
    assert.equal(host.evictIdle(Date.now() + 1000), 1);
    assert.equal(host.size, 0);
    // A fresh actor reloads its head and its idempotency view from the log.
    const dup = await host.publish(ref, { kind: "thread", senderId: "a", text: "m1", clientMsgId: "c1" });
    assert.equal(dup.status, "duplicate");
    const next = await host.publish(ref, { kind: "thread", senderId: "a", text: "m3" });
    assert.equal(next.status === "created" && next.seq, 4);
    assert.deepEqual(emitted, [1, 2, 3, 4]);
    await host.close();
  });

  it("never evicts an actor with work in its mailbox", async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const log = new MemoryEventLog();
    const slow = Object.assign(Object.create(log) as MemoryEventLog, {
      append: async (entries: Parameters<MemoryEventLog["append"]>[0]) => {
        await gate;
        return log.append(entries);
      },
    });
    const host = new InProcessActorHost(slow, () => {}, 1000);
    const pending = host.publish(ref, { kind: "thread", senderId: "a", text: "x" });
    await new Promise((r) => setImmediate(r));
    assert.equal(host.evictIdle(Date.now() + 10_000), 0);
    release();
    assert.equal((await pending).status, "created");
    await host.close();
  });
});

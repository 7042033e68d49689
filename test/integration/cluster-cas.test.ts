import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { InProcessActorHost } from "../../src/actors/in-process-host.js";
import type { ThreadPublish } from "../../src/actors/types.js";
import { NatsBus } from "../../src/bus/nats.js";
import { LogConflictError } from "../../src/log/event-log.js";
import { JetStreamEventLog } from "../../src/log/jetstream.js";
import type { ResourceRef } from "../../src/registry/ids.js";
import { randomPrefix } from "../helpers/nats-cluster.js";
import { natsSkipReason, startNatsServer, type TestServer } from "../helpers/nats-server.js";

// Two owners of one resource, as after a split view of membership or a node
// that kept appending after the others declared it dead: each is an actor host
// over its own NATS connection, exactly what an actor worker runs in nats mode.

const skip = natsSkipReason();
const msg = (id: string): ThreadPublish => ({ kind: "thread", senderId: "u", text: `text-${id}`, clientMsgId: id });

describe("two owners racing on one resource (JetStream CAS)", { skip, timeout: 60_000 }, () => {
  let nats: TestServer;
  const buses: NatsBus[] = [];
  const hosts: InProcessActorHost[] = [];
  const prefix = randomPrefix();
  before(async () => {
    nats = await startNatsServer();
  });
  after(async () => {
    for (const h of hosts) await h.close();
    for (const b of buses) await b.close();
    await nats?.destroy();
  });

  async function owner(): Promise<{ host: InProcessActorHost; log: JetStreamEventLog }> {
    const bus = await NatsBus.connect({ servers: nats.url });
    buses.push(bus);
    const log = await JetStreamEventLog.open(bus.connection, { prefix, isConnected: () => bus.status() === "connected" });
    const host = new InProcessActorHost(log);
    hosts.push(host);
    return { host, log };
  }

  it("a stale owner is refused (never interleaved), reloads, and continues at the true head", async () => {
    const ref: ResourceRef = { tenant: "t1", kind: "thread", id: "stale" };
    const [a, b] = [await owner(), await owner()];
    assert.equal((await b.host.head(ref)).lastSeq, 0, "B caches head 0");
    for (let i = 1; i <= 5; i++) assert.equal((await a.host.publish(ref, msg(`a${i}`))).status, "created");
    await assert.rejects(b.host.publish(ref, msg("b1")), (e: unknown) => e instanceof LogConflictError, "B's append at seq 1 is refused");
    const retried = await b.host.publish(ref, msg("b1"));
    assert.equal(retried.status, "created");
    assert.equal(retried.seq, 6, "B continues after A's five events");
    // A is stale now: refused once, then it continues too.
    await assert.rejects(a.host.publish(ref, msg("a6")), (e: unknown) => e instanceof LogConflictError);
    assert.equal((await a.host.publish(ref, msg("a6"))).seq, 7);
    const events = await a.log.read(ref, 0, 100);
    assert.deepEqual(events.map((e) => e.seq), [1, 2, 3, 4, 5, 6, 7]);
    assert.deepEqual(events.map((e) => e.dedupeKey), ["a1", "a2", "a3", "a4", "a5", "b1", "a6"]);
  });

  it("two owners appending concurrently with retries: gapless, every client id exactly once", async () => {
    const ref: ResourceRef = { tenant: "t1", kind: "thread", id: "race" };
    const [a, b] = [await owner(), await owner()];
    const perOwner = 40;
    let refused = 0;
    // Each owner publishes its ids with up to 4 in flight, retrying a refusal with the same id (as a client would).
    const run = async (h: InProcessActorHost, tag: string) => {
      let next = 0;
      const worker = async () => {
        while (next < perOwner) {
          const id = `${tag}${++next}`;
          for (let attempt = 0; ; attempt++) {
            try {
              await h.publish(ref, msg(id));
              break;
            } catch (e) {
              assert.ok(e instanceof LogConflictError, `only CAS refusals expected, got ${String(e)}`);
              refused++;
              assert.ok(attempt < 200, "gave up");
            }
          }
        }
      };
      await Promise.all([worker(), worker(), worker(), worker()]);
    };
    await Promise.all([run(a.host, "a"), run(b.host, "b")]);
    const events = await (await owner()).log.read(ref, 0, 1000);
    assert.deepEqual(events.map((e) => e.seq), Array.from({ length: 2 * perOwner }, (_, i) => i + 1), "gapless");
    const ids = events.map((e) => e.dedupeKey);
    assert.equal(new Set(ids).size, 2 * perOwner, "no duplicate");
    for (const tag of ["a", "b"]) for (let i = 1; i <= perOwner; i++) assert.ok(ids.includes(`${tag}${i}`), `${tag}${i} present`);
    assert.ok(refused > 0, "the race really happened (some appends were refused)");
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ownerOf } from "../../src/cluster/placement.js";
import { resourceKey } from "../../src/registry/ids.js";
import { WsClient, waitUntil, type Frame } from "../helpers/clients.js";
import { fullHistory, randomPrefix, spawnNodes, waitForMembers, clusterFixture, seqs, type ClusterNode } from "../helpers/nats-cluster.js";
import { natsSkipReason, startNatsServer, type TestServer } from "../helpers/nats-server.js";
import { randomTenant, type ChildServer } from "../helpers/server.js";

/** Publishes `id` through `ws` until acknowledged; any error frame is retried (all of them are retryable here). */
async function publishUntilAck(ws: WsClient, ch: string, cid: string, deadline: number): Promise<Frame> {
  for (let attempt = 0; ; attempt++) {
    const f = await ws.publish(ch, { text: `text-${cid}`, clientMsgId: cid });
    if (f.op === "ack") return f;
    if (Date.now() > deadline) throw new Error(`publish ${cid} never acknowledged: ${JSON.stringify(f)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("cluster failover: kill -9 of the owning node during a publish burst", { skip: natsSkipReason(), timeout: 90_000 }, () => {
  const fx = clusterFixture<TestServer>();
  const { nodes, clients } = fx;

  it("clients resume on another node; every acknowledged event is present exactly once, in order, with its acked seq", async (t) => {
    const nats = (fx.nats = await startNatsServer());
    const ids = ["fa", "fb", "fc"];
    const env = { CHAT_BUS_BACKEND: "nats", NATS_URL: nats.url, NATS_PREFIX: randomPrefix() };
    const all = await spawnNodes(ids, env, nodes);
    await waitForMembers(all, ids);
    const tenant = randomTenant();
    const token = await (all[0] as ClusterNode).token(tenant);
    const created = await (all[0] as ClusterNode).api("/chat/threads", { token, tenant, body: {} });
    const id = ((await created.json()) as { id: string }).id;
    const ch = `thread:${id}`;
    const ownerId = ownerOf(resourceKey({ tenant, kind: "thread", id }), ids);
    const owner = all.find((n) => n.nodeId === ownerId) as ClusterNode;
    const [y, z] = all.filter((n) => n !== owner) as [ClusterNode, ClusterNode];
    const open = async (n: ChildServer) => {
      const w = await WsClient.connect(n.url, token, tenant);
      clients.push(w);
      return w;
    };
    // Subscribers on the owner (will lose their node) and on a survivor; the publisher on the owner.
    const [subX, subY, pubX] = [await open(owner), await open(y), await open(owner)];
    const subscribed = await subX.subscribe(ch);
    assert.equal((await subY.subscribe(ch)).op, "subscribed");

    // Burst: up to 8 publishes in flight through the owner; kill -9 it after 40 acks.
    const n = 150;
    const acked = new Map<string, number>();
    let sent = 0;
    const cid = (i: number) => `c${i}`;
    pubX.ws.on("message", (raw) => {
      const f = JSON.parse(raw.toString()) as Frame;
      if (f.op === "ack" && typeof f.ref === "string") acked.set(f.ref, f.seq as number);
    });
    const pump = () => {
      while (sent < n && sent - acked.size < 8 && pubX.closeCode === undefined) {
        sent++;
        pubX.send({ op: "publish", channel: ch, data: { text: `text-${cid(sent)}`, clientMsgId: cid(sent) }, ref: cid(sent) });
      }
    };
    const pumping = setInterval(pump, 1);
    await waitUntil(() => acked.size >= 40, 15_000, "40 acks before the kill");
    await owner.kill("SIGKILL");
    const killedAt = Date.now();
    clearInterval(pumping);
    const ackedBeforeKill = new Map(acked);
    t.diagnostic(`killed owner ${owner.nodeId} after ${ackedBeforeKill.size} acks, ${sent} sent`);

    // The publisher resumes on a survivor and re-sends everything not acknowledged, same client ids.
    const pubY = await open(y);
    const deadline = Date.now() + 30_000;
    let firstAckAfterKill: number | undefined;
    for (let i = 1; i <= n; i++) {
      if (acked.has(cid(i))) continue;
      const f = await publishUntilAck(pubY, ch, cid(i), deadline);
      firstAckAfterKill ??= Date.now() - killedAt;
      acked.set(cid(i), f.seq as number);
    }
    t.diagnostic(`failover: first publish acknowledged on a survivor ${firstAckAfterKill} ms after kill -9 of the owner`);

    // The subscriber of the dead node resumes on the third node with since/epoch.
    await waitUntil(() => subX.closeCode !== undefined, 5_000, "the dead node's socket to close");
    const seen = subX.seqs(ch);
    const resumed = await open(z);
    const sub2 = await resumed.subscribe(ch, { since: seen.at(-1) ?? 0, epoch: subscribed.epoch });
    assert.equal(sub2.op, "subscribed");
    assert.equal(sub2.recovered, true);
    await waitUntil(() => seen.length + resumed.seqs(ch).length >= n && subY.seqs(ch).length >= n, 15_000, "every event on both subscribers");

    const history = await fullHistory(z, id, token, tenant);
    assert.deepEqual(history.map((m) => m.seq), seqs(n), "history is gapless 1..n");
    const ids2 = history.map((m) => m.clientMsgId);
    assert.equal(new Set(ids2).size, n, "every client id exactly once");
    for (const [c, seq] of acked) assert.equal(history[seq - 1]?.clientMsgId, c, `ack of ${c} named seq ${seq}`);
    for (const [c, seq] of ackedBeforeKill) assert.equal(acked.get(c), seq, `${c} acked before the kill kept its seq`);
    assert.deepEqual([...seen, ...resumed.seqs(ch)], seqs(n), "resumed subscriber: no gap, no duplicate");
    assert.deepEqual(subY.seqs(ch), seqs(n), "survivor's subscriber: no gap, no duplicate");
    const texts = [...subX.events(ch), ...resumed.events(ch)].map((f) => (f.data as { text: string }).text);
    assert.deepEqual(texts, history.map((m) => m.text), "same order as the log");
  });

  it("SIGTERM: the draining node leaves membership at once, so its resources move without waiting for the TTL", async (t) => {
    const nats = fx.nats;
    assert.ok(nats);
    const ids = ["ga", "gb"];
    const pair = await spawnNodes(ids, { CHAT_BUS_BACKEND: "nats", NATS_URL: nats.url, NATS_PREFIX: randomPrefix() }, nodes);
    await waitForMembers(pair, ids);
    const tenant = randomTenant();
    const token = await (pair[0] as ClusterNode).token(tenant);
    // A thread owned by ga, published to through gb.
    let id = "";
    for (let i = 0; i < 50 && !id; i++) {
      const r = await (pair[1] as ClusterNode).api("/chat/threads", { token, tenant, body: {} });
      const got = ((await r.json()) as { id: string }).id;
      if (ownerOf(resourceKey({ tenant, kind: "thread", id: got }), ids) === "ga") id = got;
    }
    assert.ok(id, "found a thread owned by ga");
    const [ga, gb] = pair as [ClusterNode, ClusterNode];
    const pub = await WsClient.connect(gb.url, token, tenant);
    clients.push(pub);
    const ch = `thread:${id}`;
    assert.equal((await pub.publish(ch, { text: "before", clientMsgId: "before" })).op, "ack");
    const stoppedAt = Date.now();
    // Wait for the process to be gone, so the ack below can only come from the new owner.
    assert.equal(await ga.kill("SIGTERM"), 0, "the drained node exits 0");
    const exited = Date.now() - stoppedAt;
    const f = await publishUntilAck(pub, ch, "after", Date.now() + 20_000);
    const moved = Date.now() - stoppedAt;
    t.diagnostic(`graceful leave: drained in ${exited} ms; first publish acknowledged by the new owner ${moved} ms after SIGTERM`);
    assert.equal(f.seq, 2);
    assert.ok(moved < 2_500, `moved in ${moved} ms, under the 3 s TTL`);
  });
});

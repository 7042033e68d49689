import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { WsClient, waitUntil } from "../helpers/clients.js";
import { killNodes, randomPrefix, spawnNodes, waitForMembers, clusterFixture, seqs, type ClusterNode } from "../helpers/nats-cluster.js";
import { natsSkipReason, startNatsServer, type TestServer } from "../helpers/nats-server.js";
import { redisSkipReason, startRedisServer } from "../helpers/redis-server.js";
import { randomTenant, type ChildServer } from "../helpers/server.js";

async function newThread(node: ChildServer, token: string, tenant: string): Promise<string> {
  const res = await node.api("/chat/threads", { token, tenant, body: { title: "a4" } });
  assert.equal(res.status, 201, await res.clone().text());
  return ((await res.json()) as { id: string }).id;
}

/** Publishes `n` messages round-robin through `via`, alternating WS and HTTP, all in flight at once. */
async function publishAll(via: ChildServer[], pubs: WsClient[], id: string, token: string, tenant: string, n: number): Promise<void> {
  const ch = `thread:${id}`;
  await Promise.all(
    seqs(n).map(async (i) => {
      const k = i % via.length;
      if (i % 2 === 0) {
        const f = await (pubs[k] as WsClient).publish(ch, { text: `m${i}`, clientMsgId: `c${i}` });
        assert.equal(f.op, "ack", JSON.stringify(f));
      } else {
        const r = await (via[k] as ChildServer).api(`/chat/threads/${id}/messages`, { token, tenant, body: { text: `m${i}`, clientMsgId: `c${i}` } });
        assert.equal(r.status, 201, await r.text());
      }
    }),
  );
}

describe("L1-A4 cross-process chat over NATS (three nodes, one nats-server)", { skip: natsSkipReason(), timeout: 90_000 }, () => {
  const fx = clusterFixture<TestServer>();
  const { nodes, clients } = fx;

  it("L1-A4: WS clients on node A and node C see the identical gapless sequence of publishes made through A, B and C", async () => {
    const nats = (fx.nats = await startNatsServer());
    const env = { CHAT_BUS_BACKEND: "nats", NATS_URL: nats.url, NATS_PREFIX: randomPrefix() };
    const [a, b, c] = await spawnNodes(["na", "nb", "nc"], env, nodes);
    assert.ok(a && b && c);
    await waitForMembers([a, b, c], ["na", "nb", "nc"]);
    const tenant = randomTenant();
    const token = await a.token(tenant);
    const id = await newThread(a, token, tenant);
    const ch = `thread:${id}`;
    const open = async (n: ChildServer) => {
      const w = await WsClient.connect(n.url, token, tenant);
      clients.push(w);
      return w;
    };
    const [subA, subC] = [await open(a), await open(c)];
    assert.equal((await subA.subscribe(ch)).op, "subscribed");
    assert.equal((await subC.subscribe(ch)).op, "subscribed");
    const pubs = [await open(a), await open(b), await open(c)];
    const n = 90;
    await publishAll([a, b, c], pubs, id, token, tenant, n);
    await waitUntil(() => subA.seqs(ch).length >= n && subC.seqs(ch).length >= n, 15_000, "every event on A and C");
    assert.deepEqual(subA.seqs(ch), seqs(n));
    assert.deepEqual(subC.seqs(ch), seqs(n));
    const texts = (w: WsClient) => w.events(ch).map((f) => (f.data as { text: string }).text);
    assert.deepEqual(texts(subA), texts(subC));
    assert.deepEqual([...texts(subA)].sort(), seqs(n).map((i) => `m${i}`).sort());
    // History read through the third node agrees.
    const hist = (await (await b.api(`/chat/threads/${id}/messages?limit=500`, { token, tenant })).json()) as { items: { seq: number; text: string }[] };
    assert.deepEqual(hist.items.map((m) => m.text), texts(subA));
    // Publishes really crossed nodes: someone forwarded to the owner.
    const metrics = await Promise.all([a, b, c].map(async (x) => (await x.api("/metrics")).text()));
    assert.ok(metrics.some((m) => /switchyard_cluster_forwards_total\{[^}]*result="ok"[^}]*\} [1-9]/.test(m)), "some publish was forwarded to the owner");
    const sum = (name: string) =>
      metrics.reduce((acc, m) => acc + [...m.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)$`, "gm"))].reduce((a, x) => a + Number(x[1]), 0), 0);
    assert.equal(sum("switchyard_bus_events_published_total"), n, "every event appended (and published) exactly once, by its owner");
    assert.ok(sum("switchyard_bus_events_received_total") >= n, "node A or C received the events appended elsewhere over NATS");
  });
});

describe("L1-A4 cross-process chat over Redis (two nodes, shared log dir)", { skip: redisSkipReason(), timeout: 90_000 }, () => {
  let redis: TestServer | undefined;
  const nodes: ClusterNode[] = [];
  const clients: WsClient[] = [];
  const shared = mkdtempSync(join(tmpdir(), "sy-shared-"));
  after(async () => {
    for (const c of clients) c.close();
    await killNodes(nodes);
    await redis?.destroy();
    rmSync(shared, { recursive: true, force: true });
  });

  it("L1-A4 (redis): a message published on one node reaches a subscriber on another, both nodes writing, gapless", async () => {
    redis = await startRedisServer();
    const env = { CHAT_BUS_BACKEND: "redis", REDIS_URL: redis.url, NATS_PREFIX: randomPrefix(), CLUSTER_SHARED_DIR: shared };
    const [a, b] = await spawnNodes(["ra", "rb"], env, nodes);
    assert.ok(a && b);
    const tenant = randomTenant();
    const token = await a.token(tenant);
    const id = await newThread(a, token, tenant);
    const ch = `thread:${id}`;
    const subB = await WsClient.connect(b.url, token, tenant);
    const subA = await WsClient.connect(a.url, token, tenant);
    const pubA = await WsClient.connect(a.url, token, tenant);
    const pubB = await WsClient.connect(b.url, token, tenant);
    clients.push(subA, subB, pubA, pubB);
    assert.equal((await subB.subscribe(ch)).op, "subscribed");
    assert.equal((await subA.subscribe(ch)).op, "subscribed");
    // The requirement itself: one message, published on A, arrives on B.
    assert.equal((await pubA.publish(ch, { text: "hello from A" })).op, "ack");
    const first = await subB.next((f) => f.op === "event" && f.channel === ch);
    assert.equal((first.data as { text: string }).text, "hello from A");
    // Then both nodes writing at once: the shared log orders them; both sides see one sequence.
    const n = 60;
    await publishAll([a, b], [pubA, pubB], id, token, tenant, n);
    await waitUntil(() => subA.seqs(ch).length >= n + 1 && subB.seqs(ch).length >= n + 1, 15_000, "every event on A and B");
    assert.deepEqual(subA.seqs(ch), seqs(n + 1));
    assert.deepEqual(subB.seqs(ch), seqs(n + 1));
    const texts = (w: WsClient) => w.events(ch).map((f) => (f.data as { text: string }).text);
    assert.deepEqual(texts(subA), texts(subB));
  });
});

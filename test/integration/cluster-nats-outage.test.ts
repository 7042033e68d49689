import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { WsClient, waitUntil } from "../helpers/clients.js";
import { fullHistory, pollUntil, randomPrefix, readyz, spawnNodes, waitForMembers, clusterFixture, seqs, type ClusterNode } from "../helpers/nats-cluster.js";
import { natsSkipReason, startNatsServer, type TestServer } from "../helpers/nats-server.js";
import { randomTenant } from "../helpers/server.js";

describe("NATS stopped for a few seconds and restarted", { skip: natsSkipReason(), timeout: 90_000 }, () => {
  const fx = clusterFixture<TestServer>();
  const { nodes, clients } = fx;

  it("writes fail clearly while it is down, /readyz says so, nothing acknowledged is lost, subscribers catch up", async (t) => {
    const nats = (fx.nats = await startNatsServer());
    const ids = ["oa", "ob"];
    const all = await spawnNodes(ids, { CHAT_BUS_BACKEND: "nats", NATS_URL: nats.url, NATS_PREFIX: randomPrefix() }, nodes);
    const [a, b] = all as [ClusterNode, ClusterNode];
    await waitForMembers(all, ids);
    const tenant = randomTenant();
    const token = await a.token(tenant);
    const id = ((await (await a.api("/chat/threads", { token, tenant, body: {} })).json()) as { id: string }).id;
    const ch = `thread:${id}`;
    const sub = await WsClient.connect(b.url, token, tenant);
    const pub = await WsClient.connect(a.url, token, tenant);
    clients.push(sub, pub);
    assert.equal((await sub.subscribe(ch)).op, "subscribed");
    const acked: string[] = [];
    let k = 0;
    const publish = async () => {
      const cid = `c${++k}`;
      const f = await pub.publish(ch, { text: cid, clientMsgId: cid });
      if (f.op === "ack") acked.push(cid);
      return f;
    };
    for (let i = 0; i < 10; i++) assert.equal((await publish()).op, "ack");

    await nats.stop();
    const downAt = Date.now();
    // Writes: every answer is an ack (before the loss was noticed) or a retryable error, promptly.
    const codes = new Set<string>();
    await pollUntil(async () => {
      const started = Date.now();
      const f = await publish();
      assert.ok(Date.now() - started < 6_000, "a write during the outage is answered within the forward deadline");
      if (f.op === "error") codes.add(f.code as string);
      const r = await b.api(`/chat/threads/${id}/messages`, { token, tenant, body: { text: "http during outage" } });
      if (r.status !== 201) assert.equal(r.status, 503, await r.text());
      return f.op === "error" && r.status === 503;
    }, 10_000, "writes to fail");
    assert.deepEqual([...codes].filter((c) => c !== "not_ready" && c !== "timeout"), [], "only retryable codes");
    await pollUntil(async () => (await readyz(a)).status === 503 && (await readyz(b)).status === 503, 10_000, "/readyz 503 on both nodes");
    const down = await readyz(a);
    assert.match(String(down.body.checks.bus), /nats (reconnecting|closed)/);
    // Still failing after a few seconds (the membership TTL has passed: no owner anywhere).
    await new Promise((r) => setTimeout(r, Math.max(0, 3_500 - (Date.now() - downAt))));
    assert.equal((await publish()).op, "error");

    await nats.start();
    await waitForMembers(all, ids, 20_000);
    t.diagnostic(`outage ${Date.now() - downAt} ms until both nodes were ready again`);
    for (let i = 0; i < 10; i++) {
      await pollUntil(async () => (await publish()).op === "ack", 10_000, "a publish after the restart");
    }
    // The subscriber never reconnected: it must still end up with every acknowledged event, gapless.
    const history = await fullHistory(a, id, token, tenant);
    const texts = history.map((m) => m.text);
    for (const cid of acked) assert.equal(texts.filter((x) => x === cid).length, 1, `${cid} acknowledged and stored once`);
    await waitUntil(() => sub.seqs(ch).length >= history.length, 10_000, "the subscriber to catch up");
    assert.deepEqual(sub.seqs(ch), seqs(history.length));
    assert.deepEqual(sub.events(ch).map((f) => (f.data as { text: string }).text), texts);
  });
});

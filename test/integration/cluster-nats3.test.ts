import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { WsClient, waitUntil, type Frame } from "../helpers/clients.js";
import {
  fullHistory, randomPrefix, readyz, spawnNodes, startNatsCluster, waitForMembers, clusterFixture, seqs, type ClusterNode, type NatsCluster,
} from "../helpers/nats-cluster.js";
import { natsSkipReason } from "../helpers/nats-server.js";
import { randomTenant } from "../helpers/server.js";

describe("three switchyard nodes on a 3-server JetStream cluster (replicas 3), one NATS server killed", { skip: natsSkipReason(), timeout: 90_000 }, () => {
  const fx = clusterFixture<NatsCluster>();
  const { nodes, clients } = fx;

  it("subscribers on two nodes see one gapless sequence; every acknowledged publish is stored exactly once", async (t) => {
    const nats = (fx.nats = await startNatsCluster(3));
    const ids = ["ka", "kb", "kc"];
    const env = { CHAT_BUS_BACKEND: "nats", NATS_URL: nats.url, NATS_PREFIX: randomPrefix(), NATS_REPLICAS: "3" };
    const all = await spawnNodes(ids, env, nodes);
    await waitForMembers(all, ids, 20_000);
    const [a, , c] = all as [ClusterNode, ClusterNode, ClusterNode];
    const store = String((await readyz(a)).body.checks.store);
    assert.match(store, /R3/, "the log stream has 3 replicas");
    const leader = /leader (n\d)/.exec(store)?.[1];
    assert.ok(leader, `stream leader named in /readyz: ${store}`);

    const tenant = randomTenant();
    const token = await a.token(tenant);
    const id = ((await (await a.api("/chat/threads", { token, tenant, body: {} })).json()) as { id: string }).id;
    const ch = `thread:${id}`;
    const open = async (n: ClusterNode) => {
      const w = await WsClient.connect(n.url, token, tenant);
      clients.push(w);
      return w;
    };
    const [subA, subC] = [await open(a), await open(c)];
    assert.equal((await subA.subscribe(ch)).op, "subscribed");
    assert.equal((await subC.subscribe(ch)).op, "subscribed");

    // One publisher per node, each retrying its message until acknowledged (same client id).
    const pubs = await Promise.all(all.map(open));
    const perNode = 40;
    const acked = new Map<string, number>();
    let killedAt = 0;
    const errors: string[] = [];
    const deadline = Date.now() + 60_000;
    await Promise.all(
      pubs.map(async (p, k) => {
        for (let i = 1; i <= perNode; i++) {
          const cid = `n${k}-${i}`;
          for (;;) {
            const f = await p.publish(ch, { text: cid, clientMsgId: cid }).catch((): Frame => ({ op: "error", code: "client_timeout" }));
            if (f.op === "ack") {
              acked.set(cid, f.seq as number);
              break;
            }
            errors.push(String(f.code));
            assert.ok(Date.now() < deadline, `publish ${cid} never acknowledged`);
            await new Promise((r) => setTimeout(r, 100));
          }
          if (acked.size >= 30 && killedAt === 0) {
            killedAt = Date.now();
            const victim = nats?.servers[Number(leader.slice(1))];
            await victim?.stop();
            t.diagnostic(`killed NATS server ${leader} (the stream leader) after ${acked.size} acks`);
          }
        }
      }),
    );
    t.diagnostic(`all ${acked.size} acknowledged ${Date.now() - killedAt} ms after the kill; ${errors.length} retried errors: ${[...new Set(errors)].join(",")}`);

    const total = 3 * perNode;
    const history = await fullHistory(c, id, token, tenant);
    assert.deepEqual(history.map((m) => m.seq), seqs(total), "gapless, no extra events");
    assert.equal(new Set(history.map((m) => m.clientMsgId)).size, total, "each client id once");
    for (const [cid, seq] of acked) assert.equal(history[seq - 1]?.clientMsgId, cid);
    await waitUntil(() => subA.seqs(ch).length >= total && subC.seqs(ch).length >= total, 20_000, "both subscribers complete");
    assert.deepEqual(subA.seqs(ch), seqs(total));
    assert.deepEqual(subC.seqs(ch), seqs(total));
    const texts = (w: WsClient) => w.events(ch).map((f) => (f.data as { text: string }).text);
    assert.deepEqual(texts(subA), history.map((m) => m.text));
    assert.deepEqual(texts(subC), texts(subA));
  });
});

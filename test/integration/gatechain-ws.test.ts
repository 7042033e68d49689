import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { WsClient, waitUntil } from "../helpers/clients.js";
import { randomTenant, startTestServer, type TestServer } from "../helpers/server.js";

// The GateChain's tenant rate over WebSocket publishes: a tenant past its rate
// gets `rate_limited` error frames naming each refused publish (once the front
// knows the tenant is refused it answers before validating the frame), nothing
// refused is appended, and another tenant publishing meanwhile is unaffected.

async function newThread(s: TestServer, tenant: string, token: string): Promise<string> {
  const res = await s.api("/chat/threads", { token, tenant, body: { title: "gated" } });
  assert.equal(res.status, 201);
  return ((await res.json()) as { id: string }).id;
}

describe("GateChain rate over WebSocket publishes", () => {
  let s: TestServer;
  before(async () => {
    // The per-connection frame limit is lifted so the frames reach the tenant's gate.
    s = await startTestServer({ GATECHAIN_RATE_PER_S: "20", WS_MAX_MESSAGES_PER_S: "100000" });
  });
  after(() => s?.stop());

  it("refuses a tenant's flood frame by frame with its ref; the refused are never appended; a neighbour is unaffected", async (t) => {
    const noisy = randomTenant();
    const quiet = randomTenant();
    const [noisyToken, quietToken] = [await s.token(noisy), await s.token(quiet)];
    const [noisyThread, quietThread] = [await newThread(s, noisy, noisyToken), await newThread(s, quiet, quietToken)];
    const flood = await WsClient.connect(s.url, noisyToken, noisy);
    t.after(() => flood.close());
    const calm = await WsClient.connect(s.url, quietToken, quiet);
    t.after(() => calm.close());

    const channel = `thread:${noisyThread}`;
    const n = 300;
    for (let i = 0; i < n; i++) flood.send({ op: "publish", channel, ref: `f${i}`, data: { text: `flood ${i}`, clientMsgId: `f${i}` } });
    const answered = () => flood.frames.filter((f) => f.op === "ack" || f.op === "error");
    // The neighbour publishes while the flood is being refused.
    const quietAcks = await Promise.all(Array.from({ length: 5 }, (_, i) => calm.publish(`thread:${quietThread}`, { text: `calm ${i}` })));
    await waitUntil(() => answered().length >= n, 10_000, "an answer to every flood frame");

    const acks = flood.frames.filter((f) => f.op === "ack");
    const refusals = flood.frames.filter((f) => f.op === "error");
    t.diagnostic(`${acks.length} acked, ${refusals.length} refused`);
    assert.equal(acks.length + refusals.length, n, "every frame answered exactly once");
    assert.ok(acks.length >= 1 && acks.length <= 60, `${acks.length} acked at 20/s`);
    assert.ok(refusals.length >= n - 60);
    for (const r of refusals) {
      assert.equal(r.code, "rate_limited");
      assert.equal(r.channel, channel);
      assert.match(String(r.ref), /^f\d+$/);
    }
    assert.equal(new Set([...acks, ...refusals].map((f) => f.ref)).size, n, "each ref answered once");

    // Only the acknowledged publishes were appended, gapless from 1.
    const history = await s.api(`/chat/threads/${noisyThread}/messages?limit=500`, { token: noisyToken, tenant: noisy });
    const items = ((await history.json()) as { items: { seq: number; clientMsgId: string }[] }).items;
    assert.deepEqual(items.map((m) => m.seq), Array.from({ length: acks.length }, (_, i) => i + 1));
    assert.deepEqual(new Set(items.map((m) => m.clientMsgId)), new Set(acks.map((f) => f.ref)));

    assert.deepEqual(quietAcks.map((f) => f.op), ["ack", "ack", "ack", "ack", "ack"], "the neighbour's publishes are admitted");

    // Once the window has passed, the noisy tenant is admitted again.
    await new Promise((r) => setTimeout(r, 1200));
    assert.equal((await flood.publish(channel, { text: "after" })).op, "ack");
  });
});

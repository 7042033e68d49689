import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { WsClient, waitUntil } from "../helpers/clients.js";
import { randomTenant, startTestServer, type TestServer } from "../helpers/server.js";

// FRONT_WORKERS uWS apps share one port (the kernel spreads connections over them). Whatever
// front a subscriber and a publisher land on, they see one order.
describe("several front workers on one port", () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ FRONT_WORKERS: "3", ACTOR_WORKERS: "2" });
  });
  after(() => s.stop());

  it("connections are served by every front; subscribers on all of them see one gapless sequence", async (t) => {
    const tenant = randomTenant();
    const token = await s.token(tenant);
    const { id } = (await (await s.api("/chat/threads", { token, tenant, body: {} })).json()) as { id: string };
    const ch = `thread:${id}`;
    // Each fresh connection may land on any front; open enough to cover all three.
    const subs: WsClient[] = [];
    const fronts = new Set<number>();
    for (let i = 0; i < 12; i++) {
      const c = await WsClient.connect(s.url, token, tenant);
      t.after(() => c.close());
      assert.equal((await c.subscribe(ch)).op, "subscribed");
      subs.push(c);
    }
    // /readyz answers from whichever front took the request: sample which fronts exist.
    for (let i = 0; i < 60 && fronts.size < 3; i++) {
      const r = (await (await fetch(`${s.url}/readyz`, { headers: { connection: "close" } })).json()) as { checks: { connections: { front: number } } };
      fronts.add(r.checks.connections.front);
    }
    t.diagnostic(`fronts seen answering: ${[...fronts].sort().join(",")}`);
    assert.ok(fronts.size >= 2, "requests were spread over more than one front");
    const n = 30;
    await Promise.all(
      Array.from({ length: n }, (_, i) =>
        i % 2 === 0
          ? (subs[i % subs.length] as WsClient).publish(ch, { text: `ws-${i}` }).then((f) => assert.equal(f.op, "ack"))
          : s.api(`/chat/threads/${id}/messages`, { token, tenant, body: { text: `http-${i}` }, headers: { connection: "close" } }).then((r) => assert.equal(r.status, 201)),
      ),
    );
    await waitUntil(() => subs.every((c) => c.seqs(ch).length >= n), 10_000, "every subscriber got every event");
    const expected = Array.from({ length: n }, (_, i) => i + 1);
    for (const c of subs) assert.deepEqual(c.seqs(ch), expected);
    const texts = (c: WsClient) => c.events(ch).map((f) => (f.data as { text: string }).text);
    for (const c of subs) assert.deepEqual(texts(c), texts(subs[0] as WsClient));
  });
});

import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { describe, it } from "node:test";
import { randomTenant, spawnServer, tmpDataDir, type ChildServer } from "../helpers/server.js";

// Issue 2: an event acknowledged with 201/202 survives kill -9 and a restart,
// and per-resource seq stays gapless across restarts. Real child processes,
// real SIGKILL, the same DATA_DIR.

interface Message {
  id: string;
  seq: number;
  text: string;
}

async function history(s: ChildServer, token: string, tenant: string, path: string): Promise<{ items: Message[]; lastSeq: number }> {
  const items: Message[] = [];
  let after = 0;
  let lastSeq = 0;
  for (;;) {
    const res = await s.api(`${path}?after=${after}&limit=500`, { token, tenant });
    assert.equal(res.status, 200);
    const page = (await res.json()) as { items: Message[]; lastSeq: number };
    lastSeq = page.lastSeq;
    if (page.items.length === 0) return { items, lastSeq };
    items.push(...page.items);
    after = page.items.at(-1)?.seq ?? after;
  }
}

describe("durability", () => {
  it("durability: acknowledged messages survive kill -9", async (t) => {
    const dataDir = tmpDataDir();
    t.after(() => rmSync(dataDir, { recursive: true, force: true }));
    const tenant = randomTenant();
    const N = 60;

    let s = await spawnServer({ DATA_DIR: dataDir });
    t.after(() => s.kill("SIGKILL"));
    const token = await s.token(tenant);
    const thread = ((await (await s.api("/chat/threads", { token, tenant, body: { title: "durable" } })).json()) as { id: string }).id;
    const path = `/chat/threads/${thread}/messages`;

    // Phase 1: N concurrent posts, every one acknowledged before the kill.
    const acked = new Map<string, Message>();
    const results = await Promise.all(Array.from({ length: N }, (_, i) => s.api(path, { token, tenant, body: { text: `m${i}`, clientMsgId: `k${i}` } })));
    for (const r of results) {
      assert.equal(r.status, 201);
      const m = (await r.json()) as Message;
      acked.set(m.id, m);
    }
    await s.api(`/canvas/board/events`, { token, tenant, body: { type: "t", data: 1 } }).then((r) => assert.equal(r.status, 202));

    // Phase 2: more posts in flight while the process is killed; those that were acknowledged must survive too.
    let stop = false;
    const inflight = Array.from({ length: 4 }, async (_, w) => {
      for (let i = 0; !stop; i++) {
        try {
          const r = await s.api(path, { token, tenant, body: { text: `w${w}-${i}` } });
          if (r.status === 201) {
            const m = (await r.json()) as Message;
            acked.set(m.id, m);
          } else return;
        } catch {
          return; // connection reset by the kill: not acknowledged, so no promise was made
        }
      }
    });
    const deadline = Date.now() + 10_000;
    while (acked.size < N + 40 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.equal(await s.kill("SIGKILL"), null, "killed by signal, not a clean exit");
    stop = true;
    await Promise.all(inflight);

    s = await spawnServer({ DATA_DIR: dataDir });
    const h = await history(s, token, tenant, path);
    const seqs = h.items.map((m) => m.seq);
    assert.deepEqual(seqs, Array.from({ length: seqs.length }, (_, i) => i + 1), "gapless from 1");
    assert.equal(h.lastSeq, seqs.length);
    const stored = new Map(h.items.map((m) => [m.id, m]));
    for (const m of acked.values()) {
      assert.deepEqual(stored.get(m.id), m, `acknowledged message seq ${m.seq} lost or changed`);
    }
    assert.ok(h.lastSeq >= acked.size);
    t.diagnostic(`acknowledged ${acked.size} (${N} before the kill, the rest racing it); stored ${h.lastSeq}`);
    // Phase 1 texts are all there, in the order their seqs say.
    const phase1 = h.items.filter((m) => /^m\d+$/.test(m.text));
    assert.equal(phase1.length, N);

    // The next post continues the sequence; an old idempotency key is still remembered.
    const next = await s.api(path, { token, tenant, body: { text: "after restart" } });
    assert.equal(next.status, 201);
    assert.equal(((await next.json()) as Message).seq, h.lastSeq + 1);
    const retry = await s.api(path, { token, tenant, body: { text: "m0", clientMsgId: "k0" } });
    assert.equal(retry.status, 200);
    const canvas = await s.api(`/canvas/board/events`, { token, tenant, body: { type: "t", data: 2 } });
    assert.deepEqual(await canvas.json(), { canvasId: "board", seq: 2 }, "canvas registration and seq survived");
    const thread2 = await s.api(`/chat/threads/${thread}`, { token, tenant });
    assert.equal(((await thread2.json()) as { title: string }).title, "durable");
  });
});

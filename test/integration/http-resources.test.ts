import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { randomTenant, startTestServer, type TestServer } from "../helpers/server.js";

// SPEC §4 chat threads and canvas over real HTTP: shapes, idempotency,
// history paging, list paging and canvas registration.

interface Message {
  id: string;
  threadId: string;
  seq: number;
  text: string;
  metadata: unknown;
  senderId: string;
  createdAt: string;
  clientMsgId: string | null;
}
interface Thread {
  id: string;
  tenantId: string;
  title: string | null;
  metadata: unknown;
  createdBy: string;
  createdAt: string;
  lastSeq: number;
}
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

describe("chat and canvas resources", () => {
  let s: TestServer;
  const tenant = randomTenant();
  let token: string;
  before(async () => {
    s = await startTestServer();
    token = await s.token(tenant, { sub: "alice" });
  });
  after(() => s.stop());

  const newThread = async (body: unknown = {}): Promise<Thread> => {
    const res = await s.api("/chat/threads", { token, tenant, body });
    assert.equal(res.status, 201);
    return (await res.json()) as Thread;
  };
  const postMsg = (thread: string, body: unknown) => s.api(`/chat/threads/${thread}/messages`, { token, tenant, body });

  it("thread create and get have the documented shape", async () => {
    const t = await newThread({ title: "Planning", metadata: { color: "blue" } });
    assert.match(t.id, /^[A-Za-z0-9_-]{16,128}$/);
    assert.deepEqual({ ...t, id: "", createdAt: "" }, { id: "", tenantId: tenant, title: "Planning", metadata: { color: "blue" }, createdBy: "alice", createdAt: "", lastSeq: 0 });
    assert.match(t.createdAt, ISO);
    const got = (await (await s.api(`/chat/threads/${t.id}`, { token, tenant })).json()) as Thread;
    assert.deepEqual(got, t);
    const bare = await newThread();
    assert.equal(bare.title, null);
  });

  it("messages: 201 with the message, gapless seqs, clientMsgId idempotency and 409 on conflict", async () => {
    const t = await newThread();
    const first = await postMsg(t.id, { text: "hello", clientMsgId: "c-1", metadata: { m: 1 } });
    assert.equal(first.status, 201);
    const m1 = (await first.json()) as Message;
    assert.deepEqual({ ...m1, id: "", createdAt: "" }, { id: "", threadId: t.id, seq: 1, text: "hello", metadata: { m: 1 }, senderId: "alice", createdAt: "", clientMsgId: "c-1" });
    assert.match(m1.createdAt, ISO);

    const retry = await postMsg(t.id, { text: "hello", clientMsgId: "c-1" });
    assert.equal(retry.status, 200);
    assert.deepEqual(await retry.json(), m1, "the retry returns the original message");

    const conflict = await postMsg(t.id, { text: "not hello", clientMsgId: "c-1" });
    assert.equal(conflict.status, 409);
    assert.equal(((await conflict.json()) as { error: { code: string } }).error.code, "conflict");

    const m2 = (await (await postMsg(t.id, { text: "second" })).json()) as Message;
    assert.equal(m2.seq, 2, "neither the retry nor the conflict took a seq");
    assert.equal(m2.clientMsgId, null);
    const got = (await (await s.api(`/chat/threads/${t.id}`, { token, tenant })).json()) as Thread;
    assert.equal(got.lastSeq, 2);
  });

  it("concurrent retries of one clientMsgId create exactly one message", async () => {
    const t = await newThread();
    const results = await Promise.all(Array.from({ length: 10 }, () => postMsg(t.id, { text: "once", clientMsgId: "dup" })));
    const statuses = results.map((r) => r.status).sort();
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
    const bodies = (await Promise.all(results.map((r) => r.json()))) as Message[];
    assert.equal(new Set(bodies.map((b) => b.id)).size, 1);
    const hist = (await (await s.api(`/chat/threads/${t.id}/messages`, { token, tenant })).json()) as { items: Message[]; lastSeq: number };
    assert.equal(hist.lastSeq, 1);
  });

  it("history pages with after/limit, in seq order", async () => {
    const t = await newThread();
    const posted = await Promise.all(Array.from({ length: 25 }, (_, i) => postMsg(t.id, { text: `m${i}` })));
    assert.ok(posted.every((r) => r.status === 201));
    const all: Message[] = [];
    let after = 0;
    for (;;) {
      const page = (await (await s.api(`/chat/threads/${t.id}/messages?after=${after}&limit=10`, { token, tenant })).json()) as { items: Message[]; lastSeq: number };
      assert.equal(page.lastSeq, 25);
      assert.ok(page.items.length <= 10);
      if (page.items.length === 0) break;
      all.push(...page.items);
      after = page.items.at(-1)?.seq ?? after;
    }
    assert.deepEqual(all.map((m) => m.seq), Array.from({ length: 25 }, (_, i) => i + 1));
    assert.equal(new Set(all.map((m) => m.text)).size, 25);
    const tail = (await (await s.api(`/chat/threads/${t.id}/messages?after=20`, { token, tenant })).json()) as { items: Message[] };
    assert.deepEqual(tail.items.map((m) => m.seq), [21, 22, 23, 24, 25]);
    const beyond = (await (await s.api(`/chat/threads/${t.id}/messages?after=99`, { token, tenant })).json()) as { items: Message[]; lastSeq: number };
    assert.deepEqual(beyond, { items: [], lastSeq: 25 });
  });

  it("thread list pages with limit and cursor, every thread exactly once", async () => {
    const other = randomTenant();
    const tok = await s.token(other);
    const ids = new Set<string>();
    for (let i = 0; i < 7; i++) {
      const r = await s.api("/chat/threads", { token: tok, tenant: other, body: { title: `t${i}` } });
      ids.add(((await r.json()) as Thread).id);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q: string = cursor ? `?limit=3&cursor=${cursor}` : "?limit=3";
      const page = (await (await s.api(`/chat/threads${q}`, { token: tok, tenant: other })).json()) as { items: Thread[]; nextCursor: string | null };
      assert.ok(page.items.length <= 3);
      seen.push(...page.items.map((t) => t.id));
      cursor = page.nextCursor;
      assert.ok(++pages <= 5, "pagination does not terminate");
    } while (cursor);
    assert.equal(seen.length, 7);
    assert.deepEqual(new Set(seen), ids);
  });

  it("canvas: history is 404 before the first publish; publish is 202 {canvasId, seq}; reading does not register", async () => {
    const id = `board-${Date.now()}`;
    const before = await s.api(`/canvas/${id}/events`, { token, tenant });
    assert.equal(before.status, 404);
    assert.equal((await s.api(`/canvas/${id}/events`, { token, tenant })).status, 404, "a read did not register it");
    const pub = await s.api(`/canvas/${id}/events`, { token, tenant, body: { type: "stroke", data: { x: 1, y: [2, 3] }, clientEventId: "e-1" } });
    assert.equal(pub.status, 202);
    assert.deepEqual(await pub.json(), { canvasId: id, seq: 1 });
    const retry = await s.api(`/canvas/${id}/events`, { token, tenant, body: { type: "stroke", data: { x: 1, y: [2, 3] }, clientEventId: "e-1" } });
    assert.deepEqual([retry.status, await retry.json()], [202, { canvasId: id, seq: 1 }], "a retried clientEventId keeps its seq");
    const clash = await s.api(`/canvas/${id}/events`, { token, tenant, body: { type: "stroke", data: { x: 2 }, clientEventId: "e-1" } });
    assert.equal(clash.status, 409);
    const hist = (await (await s.api(`/canvas/${id}/events`, { token, tenant })).json()) as { items: Record<string, unknown>[]; lastSeq: number };
    assert.equal(hist.lastSeq, 1);
    const ev = hist.items[0] as Record<string, unknown>;
    assert.deepEqual(Object.keys(ev).sort(), ["clientEventId", "createdAt", "data", "senderId", "seq", "type"]);
    assert.deepEqual([ev.seq, ev.type, ev.data, ev.clientEventId, ev.senderId], [1, "stroke", { x: 1, y: [2, 3] }, "e-1", "alice"]);
  });

  it("two racing first publishes to one canvas both succeed, with seqs 1 and 2", async () => {
    for (let round = 0; round < 5; round++) {
      const id = `race-${round}-${Date.now()}`;
      const [a, b] = await Promise.all([0, 1].map((n) => s.api(`/canvas/${id}/events`, { token, tenant, body: { type: "t", data: n } })));
      assert.deepEqual([a?.status, b?.status], [202, 202]);
      const seqs = [((await a?.json()) as { seq: number }).seq, ((await b?.json()) as { seq: number }).seq].sort();
      assert.deepEqual(seqs, [1, 2], `round ${round}`);
    }
  });

  it("data may be any JSON value", async () => {
    const id = `any-${Date.now()}`;
    const values: unknown[] = [null, 0, "s", [1, "x"], { deep: { er: true } }, false];
    for (const data of values) assert.equal((await s.api(`/canvas/${id}/events`, { token, tenant, body: { type: "v", data } })).status, 202);
    const hist = (await (await s.api(`/canvas/${id}/events`, { token, tenant })).json()) as { items: { data: unknown }[] };
    assert.deepEqual(hist.items.map((e) => e.data), values);
  });
});

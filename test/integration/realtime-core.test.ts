import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { SseClient, WsClient, waitUntil } from "../helpers/clients.js";
import { randomTenant, startTestServer, type TestServer } from "../helpers/server.js";

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe("realtime core (real uWS server, real ws and SSE clients)", () => {
  let s: TestServer;
  const open: { close(): void }[] = [];
  before(async () => {
    s = await startTestServer({ ACTOR_WORKERS: "2" });
  });
  after(async () => {
    for (const c of open) c.close();
    await s.stop();
  });

  async function newThread(tenant: string, token: string): Promise<string> {
    const res = await s.api("/chat/threads", { token, tenant, body: {} });
    assert.equal(res.status, 201);
    return ((await res.json()) as { id: string }).id;
  }
  async function ws(token: string, tenant: string): Promise<WsClient> {
    const c = await WsClient.connect(s.url, token, tenant);
    open.push(c);
    return c;
  }
  async function sse(path: string, token: string, tenant: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const c = await SseClient.open(`${s.url}${path}?access_token=${token}&tenant_id=${tenant}`, headers);
    open.push(c);
    return c;
  }

  it("three subscribers (2 WS, 1 SSE) and two publishers (WS, HTTP) see one identical gapless sequence", async () => {
    const tenant = randomTenant();
    const token = await s.token(tenant);
    const id = await newThread(tenant, token);
    const ch = `thread:${id}`;
    const [a, b, pub] = [await ws(token, tenant), await ws(token, tenant), await ws(token, tenant)];
    assert.equal((await a.subscribe(ch)).op, "subscribed");
    assert.equal((await b.subscribe(ch)).op, "subscribed");
    const stream = await sse(`/sse/threads/${id}`, token, tenant);
    assert.equal(stream.response.status, 200);
    await waitUntil(() => stream.comments.some((c) => c.startsWith("subscribed")), 5000, "sse subscribed");
    const n = 40;
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < n; i++) {
      if (i % 2 === 0) sends.push(pub.publish(ch, { text: `ws-${i}` }).then((f) => assert.equal(f.op, "ack")));
      else sends.push(s.api(`/chat/threads/${id}/messages`, { token, tenant, body: { text: `http-${i}` } }).then((r) => assert.equal(r.status, 201)));
    }
    await Promise.all(sends);
    await waitUntil(() => a.seqs(ch).length >= n && b.seqs(ch).length >= n && stream.events.length >= n, 10_000, "all deliveries");
    assert.deepEqual(a.seqs(ch), range(1, n));
    assert.deepEqual(b.seqs(ch), range(1, n));
    assert.deepEqual(stream.seqs(), range(1, n));
    const texts = (c: WsClient) => c.events(ch).map((f) => (f.data as { text: string }).text);
    assert.deepEqual(texts(a), texts(b));
    assert.deepEqual(stream.events.map((e) => (JSON.parse(e.data) as { text: string }).text), texts(a));
    assert.ok(stream.events.every((e) => e.event === "message"));
  });

  it("WS resume with since replays exactly k+1..n then live, even under concurrent publishing", async () => {
    const tenant = randomTenant();
    const token = await s.token(tenant);
    const id = await newThread(tenant, token);
    const ch = `thread:${id}`;
    const pub = await ws(token, tenant);
    const first = await ws(token, tenant);
    const sub = await first.subscribe(ch);
    const epoch = sub.epoch as string;
    for (let i = 1; i <= 5; i++) assert.equal((await pub.publish(ch, { text: `m${i}` })).op, "ack");
    await waitUntil(() => first.seqs(ch).length === 5, 5000, "first 5");
    first.close();
    for (let i = 6; i <= 20; i++) await pub.publish(ch, { text: `m${i}` });
    // Resume while a publisher keeps going.
    let publishing = true;
    let sent = 20;
    const loop = (async () => {
      while (publishing && sent < 200) {
        sent++;
        const f = await pub.publish(ch, { text: `m${sent}` });
        assert.equal(f.op, "ack");
      }
    })();
    const again = await ws(token, tenant);
    const resumed = await again.subscribe(ch, { since: 5, epoch });
    assert.equal(resumed.recovered, true);
    assert.equal(resumed.epoch, epoch);
    await waitUntil(() => again.seqs(ch).length >= 40, 10_000, "resumed deliveries");
    publishing = false;
    await loop;
    await waitUntil(() => again.seqs(ch).at(-1) === sent, 10_000, "the last live event");
    assert.deepEqual(again.seqs(ch), range(6, sent));
    // The subscribed frame precedes every event.
    const firstEvent = again.frames.findIndex((f) => f.op === "event");
    const subscribedAt = again.frames.findIndex((f) => f.op === "subscribed");
    assert.ok(subscribedAt >= 0 && subscribedAt < firstEvent);
  });

  it("SSE Last-Event-ID resumes exactly like since; a stale epoch says recovered:false", async () => {
    const tenant = randomTenant();
    const token = await s.token(tenant);
    const id = await newThread(tenant, token);
    for (let i = 1; i <= 8; i++) await s.api(`/chat/threads/${id}/messages`, { token, tenant, body: { text: `m${i}` } });
    const stream = await sse(`/sse/threads/${id}`, token, tenant, { "last-event-id": "3" });
    await waitUntil(() => stream.events.length >= 5, 5000, "replayed events");
    await s.api(`/chat/threads/${id}/messages`, { token, tenant, body: { text: "m9" } });
    await waitUntil(() => stream.events.length >= 6, 5000, "live event");
    assert.deepEqual(stream.seqs(), range(4, 9));
    const viaQuery = await sse(`/sse/threads/${id}`, token, tenant);
    assert.equal(viaQuery.response.headers.get("content-type"), "text/event-stream");

    const c = await ws(token, tenant);
    const stale = await c.subscribe(`thread:${id}`, { since: 2, epoch: "not-the-epoch" });
    assert.equal(stale.op, "subscribed");
    assert.equal(stale.recovered, false);
    assert.equal(stale.seq, 9);
    const fresh = await ws(token, tenant);
    const noEpoch = await fresh.subscribe(`thread:${id}`, { since: 2 });
    assert.equal(noEpoch.recovered, true, "since without epoch recovers while history reaches back");
    await waitUntil(() => fresh.seqs(`thread:${id}`).length === 7, 5000, "replay 3..9");
    assert.deepEqual(fresh.seqs(`thread:${id}`), range(3, 9));
  });

  it("L1-T3 SSE on a fresh canvas registers it and streams; the same id in another tenant is a separate canvas", async () => {
    const a = randomTenant();
    const b = randomTenant();
    const ta = await s.token(a);
    const tb = await s.token(b, { sub: "bob" });
    const board = `board-${Date.now()}`;
    const sa = await sse(`/sse/canvas/${board}`, ta, a);
    assert.equal(sa.response.status, 200);
    assert.equal(sa.response.headers.get("content-type"), "text/event-stream");
    await waitUntil(() => sa.comments.some((c) => c.startsWith("subscribed")), 5000, "subscribed comment");
    // Subscribing registered it: history is readable now, and empty.
    const hist = await s.api(`/canvas/${board}/events`, { token: ta, tenant: a });
    assert.equal(hist.status, 200);
    const sb = await sse(`/sse/canvas/${board}`, tb, b);
    assert.equal(sb.response.status, 200);
    const pa = await s.api(`/canvas/${board}/events`, { token: ta, tenant: a, body: { type: "stroke", data: { x: 1 } } });
    assert.equal(pa.status, 202);
    assert.deepEqual(await pa.json(), { canvasId: board, seq: 1 });
    await waitUntil(() => sa.events.length === 1, 5000, "A's event");
    assert.equal(sa.events[0]?.event, "canvas");
    assert.deepEqual(JSON.parse(sa.events[0]?.data ?? "{}").data, { x: 1 });
    const pb = await s.api(`/canvas/${board}/events`, { token: tb, tenant: b, body: { type: "stroke", data: { y: 2 } } });
    assert.deepEqual(await pb.json(), { canvasId: board, seq: 1 }, "B's canvas has its own sequence");
    await waitUntil(() => sb.events.length === 1, 5000, "B's event");
    assert.deepEqual(JSON.parse(sb.events[0]?.data ?? "{}").data, { y: 2 });
    assert.equal(sa.events.length, 1, "A never sees B's event");
  });

  it("a WS subscribe to a thread never created, or another tenant's, is not_found and delivers nothing", async () => {
    const a = randomTenant();
    const b = randomTenant();
    const ta = await s.token(a);
    const tb = await s.token(b);
    const id = await newThread(a, ta);
    const intruder = await ws(tb, b);
    const foreign = await intruder.subscribe(`thread:${id}`);
    const missing = await intruder.subscribe("thread:th_never_created");
    assert.equal(foreign.op, "error");
    assert.equal(foreign.code, "not_found");
    assert.deepEqual([missing.op, missing.code], ["error", "not_found"]);
    const pubFail = await intruder.publish(`thread:${id}`, { text: "hi" });
    assert.deepEqual([pubFail.op, pubFail.code], ["error", "not_found"]);
    await s.api(`/chat/threads/${id}/messages`, { token: ta, tenant: a, body: { text: "secret" } });
    const owner = await ws(ta, a);
    await owner.subscribe(`thread:${id}`, { since: 0 });
    await waitUntil(() => owner.seqs(`thread:${id}`).length === 1, 5000, "owner replay");
    assert.equal(intruder.frames.filter((f) => f.op === "event").length, 0);
    const sseForeign = await fetch(`${s.url}/sse/threads/${id}?access_token=${tb}&tenant_id=${b}`);
    assert.equal(sseForeign.status, 404);
  });

  it("L1-T2 the SSE canvas route is mounted: 401 without credentials, not 404", async () => {
    const res = await fetch(`${s.url}/sse/canvas/board-1`);
    assert.equal(res.status, 401);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, "unauthenticated");
  });
});

import assert from "node:assert/strict";
import { request, type IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import { SseClient, WsClient, waitUntil } from "../helpers/clients.js";
import { randomTenant, startTestServer, type TestServer } from "../helpers/server.js";

// SPEC §5/§6 limits on the realtime front, each observed from a real client:
// frame rate (4429), token expiry (4401), slow consumer (4408, then a lossless
// resume), the Origin allowlist and authentication at the upgrade.

/** The HTTP status of a refused upgrade, or 101 when it was accepted. */
function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, perMessageDeflate: false });
    ws.once("open", () => {
      ws.close();
      resolve(101);
    });
    ws.once("unexpected-response", (_req, res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once("error", (e) => reject(e));
  });
}

const wsUrl = (s: TestServer, query: Record<string, string>) => `${s.url.replace(/^http/, "ws")}/ws?${new URLSearchParams(query).toString()}`;

/** The server's own count of open WebSockets / SSE streams (from /readyz). */
async function connections(s: TestServer): Promise<{ ws: number; sse: number }> {
  const body = (await (await fetch(`${s.url}/readyz`)).json()) as { checks: { connections: { ws: number; sse: number } } };
  return body.checks.connections;
}
const openWs = async (s: TestServer) => (await connections(s)).ws;
const openSse = async (s: TestServer) => (await connections(s)).sse;

async function eventually(pred: () => Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("realtime limits", () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({
      WS_MAX_MESSAGES_PER_S: "10",
      WS_MAX_BACKPRESSURE_BYTES: "65536",
      WS_ALLOWED_ORIGINS: "http://good.example",
    });
  });
  after(() => s?.stop());

  it("a flood of frames gets rate_limited errors, then close 4429; a calm client is unaffected", async (t) => {
    const tenant = randomTenant();
    const token = await s.token(tenant);
    const calm = await WsClient.connect(s.url, token, tenant);
    t.after(() => calm.close());
    const flood = await WsClient.connect(s.url, token, tenant);
    t.after(() => flood.close());
    for (let i = 0; i < 100; i++) flood.send({ op: "ping", ref: `f${i}` });
    assert.equal(await flood.closed(), 4429);
    const pongs = flood.frames.filter((f) => f.op === "pong").length;
    const limited = flood.frames.filter((f) => f.op === "error" && f.code === "rate_limited").length;
    t.diagnostic(`flood: ${pongs} pongs, ${limited} rate_limited before 4429`);
    assert.ok(pongs >= 1 && pongs <= 20, `${pongs} pongs (limit 10/s)`);
    assert.ok(limited >= 1, "no rate_limited error frame before the close");
    // Each refusal names the frame it refused, so a client knows which request to retry.
    const refused = flood.frames.filter((f) => f.op === "error" && f.code === "rate_limited").map((f) => f.ref);
    assert.deepEqual(refused, Array.from({ length: limited }, (_, i) => `f${pongs + i}`));
    // Nothing past the refusal was acted on: pongs answer the first frames only.
    assert.deepEqual(flood.frames.filter((f) => f.op === "pong").map((f) => f.ref), Array.from({ length: pongs }, (_, i) => `f${i}`));

    calm.send({ op: "ping", ref: "calm" });
    assert.equal((await calm.next((f) => f.ref === "calm")).op, "pong");
    assert.equal(calm.closeCode, undefined);
  });

  it("a token that expires while connected closes WS with 4401 and ends SSE at its exp", async (t) => {
    const tenant = randomTenant();
    const token = await s.token(tenant, { ttlSeconds: 3 });
    const exp = (JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()) as { exp: number }).exp * 1000;
    const c = await WsClient.connect(s.url, token, tenant);
    t.after(() => c.close());
    const channel = `canvas:exp-${randomTenant()}`;
    assert.equal((await c.subscribe(channel)).op, "subscribed");
    assert.equal((await c.publish(channel, { type: "t", data: 1 })).op, "ack");
    const sse = await SseClient.open(`${s.url}/sse/canvas/${channel.slice(7)}?access_token=${token}&tenant_id=${tenant}`);
    t.after(() => sse.close());
    assert.equal(sse.response.status, 200);
    assert.equal(await c.closed(10_000), 4401);
    const closedAt = Date.now();
    t.diagnostic(`closed ${closedAt - exp} ms after exp`);
    assert.ok(closedAt >= exp - 50, `closed ${exp - closedAt} ms before the token expired`);
    assert.ok(closedAt <= exp + 3000, `closed ${closedAt - exp} ms after the token expired`);
    await waitUntil(() => sse.ended, 5000, "the SSE stream to end at token expiry");
  });

  it("a consumer that stops reading is closed with 4408, nothing dropped before it, and resumes losslessly", async (t) => {
    const tenant = randomTenant();
    const token = await s.token(tenant);
    const canvas = `slow-${randomTenant()}`;
    const channel = `canvas:${canvas}`;
    const slow = await WsClient.connect(s.url, token, tenant);
    t.after(() => slow.close());
    assert.equal((await slow.subscribe(channel)).seq, 0);
    // Earlier tests' sockets are gone server-side, so the count below drops exactly when this one is closed.
    await eventually(async () => (await openWs(s)) === 1, "only the slow consumer connected");
    const before = 1;
    (slow.ws as unknown as { _socket: Socket })._socket.pause();

    // Publish ~48 KiB events over HTTP until the server gives up on the paused socket.
    const blob = "b".repeat(48 * 1024);
    let published = 0;
    const deadline = Date.now() + 30_000;
    const publisher = async () => {
      while ((await openWs(s)) >= before && published < 3000) {
        assert.ok(Date.now() < deadline, "the slow consumer was never closed");
        const res = await s.api(`/canvas/${canvas}/events`, { token, tenant, body: { type: "blob", data: { n: published, blob } } });
        assert.equal(res.status, 202);
        published++;
      }
    };
    await Promise.all([publisher(), publisher(), publisher()]);
    t.diagnostic(`closed by the server after ${published} events (${Math.round((published * blob.length) / 1024 / 1024)} MiB)`);
    // Publishes after the close must not reach the closed socket, only the resumed one. (Without
    // these the publishers could all notice the close before publishing again, a race.)
    for (let i = 0; i < 2; i++) {
      const res = await s.api(`/canvas/${canvas}/events`, { token, tenant, body: { type: "blob", data: { n: published, blob } } });
      assert.equal(res.status, 202);
      published++;
    }

    // Reading again: everything buffered before the close arrives in order, then the close frame.
    (slow.ws as unknown as { _socket: Socket })._socket.resume();
    assert.equal(await slow.closed(15_000), 4408);
    const got = slow.seqs(channel);
    assert.deepEqual(got, Array.from({ length: got.length }, (_, i) => i + 1), "events were dropped before the close");
    assert.ok(got.length < published, "the slow consumer got everything: the test did not exercise backpressure");

    // Resume with since = last received: exactly the rest, then live.
    const back = await WsClient.connect(s.url, token, tenant);
    t.after(() => back.close());
    const sub = await back.subscribe(channel, { since: got.length });
    assert.equal(sub.recovered, true);
    await waitUntil(() => back.seqs(channel).length >= published - got.length, 15_000, "the resumed consumer to catch up");
    assert.deepEqual(back.seqs(channel), Array.from({ length: published - got.length }, (_, i) => got.length + i + 1));
    assert.equal(back.closeCode, undefined);
  });

  it("an SSE reader that stops reading is ended, gets a gapless prefix, and resumes with Last-Event-ID", async (t) => {
    const tenant = randomTenant();
    const token = await s.token(tenant);
    const canvas = `slow-sse-${randomTenant()}`;
    await eventually(async () => (await openSse(s)) === 0, "no SSE streams open");
    // node:http rather than fetch so the reader can stop pulling from the socket.
    const req = request(`${s.url}/sse/canvas/${canvas}?access_token=${token}&tenant_id=${tenant}`);
    t.after(() => req.destroy());
    const res = await new Promise<IncomingMessage>((resolve, reject) => req.once("response", resolve).once("error", reject).end());
    assert.equal(res.statusCode, 200);
    res.pause();
    await eventually(async () => (await openSse(s)) === 1, "the stream to be registered");

    const blob = "s".repeat(48 * 1024);
    let published = 0;
    const deadline = Date.now() + 30_000;
    const publisher = async () => {
      while ((await openSse(s)) === 1 && published < 3000) {
        assert.ok(Date.now() < deadline, "the slow SSE reader was never ended");
        const r = await s.api(`/canvas/${canvas}/events`, { token, tenant, body: { type: "blob", data: { blob } } });
        assert.equal(r.status, 202);
        published++;
      }
    };
    await Promise.all([publisher(), publisher(), publisher()]);
    t.diagnostic(`SSE stream ended by the server after ${published} events`);

    // Read what was sent before the end: whole events, in order, no gap.
    let text = "";
    res.setEncoding("utf8");
    res.on("data", (chunk: string) => (text += chunk));
    res.resume();
    await new Promise<void>((resolve) => res.once("end", resolve).once("close", resolve));
    const ids = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    assert.deepEqual(ids, Array.from({ length: ids.length }, (_, i) => i + 1), "events were dropped before the end");
    assert.ok(ids.length < published, "the reader got everything: backpressure was not exercised");

    const back = await SseClient.open(`${s.url}/sse/canvas/${canvas}?access_token=${token}&tenant_id=${tenant}`, { "last-event-id": String(ids.length) });
    t.after(() => back.close());
    await waitUntil(() => back.events.length >= published - ids.length, 15_000, "the resumed SSE reader to catch up");
    assert.deepEqual(back.seqs(), Array.from({ length: published - ids.length }, (_, i) => ids.length + i + 1));
  });

  it("Origin allowlist at the upgrade: exact matches only", async () => {
    const tenant = randomTenant();
    const url = wsUrl(s, { access_token: await s.token(tenant), tenant_id: tenant });
    assert.equal(await upgradeStatus(url, { origin: "http://good.example" }), 101);
    assert.equal(await upgradeStatus(url), 101, "a non-browser client (no Origin) is accepted");
    for (const origin of ["http://evil.example", "https://good.example", "http://good.example.evil.example", "http://good.example:8080", "null"]) {
      assert.equal(await upgradeStatus(url, { origin }), 403, origin);
    }
  });

  it("authentication at the upgrade: no token 401, bad or expired token 401, foreign tenant 403", async () => {
    const tenant = randomTenant();
    const token = await s.token(tenant);
    assert.equal(await upgradeStatus(wsUrl(s, { tenant_id: tenant })), 401);
    assert.equal(await upgradeStatus(wsUrl(s, { access_token: "not.a.jwt", tenant_id: tenant })), 401);
    assert.equal(await upgradeStatus(wsUrl(s, { access_token: await s.token(tenant, { ttlSeconds: -120 }), tenant_id: tenant })), 401);
    assert.equal(await upgradeStatus(wsUrl(s, { access_token: token, tenant_id: randomTenant() })), 403);
    assert.equal(await upgradeStatus(wsUrl(s, { tenant_id: tenant }), { authorization: `Bearer ${token}` }), 101, "a bearer header works too");
    assert.equal(await upgradeStatus(wsUrl(s, { access_token: token, tenant_id: tenant })), 101);
  });
});

describe("prod without WS_ALLOWED_ORIGINS", () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ APP_ENV: "prod" });
  });
  after(() => s?.stop());

  it("refuses every browser Origin and accepts clients that send none", async () => {
    const tenant = randomTenant();
    const url = wsUrl(s, { access_token: await s.token(tenant), tenant_id: tenant });
    assert.equal(await upgradeStatus(url, { origin: "http://good.example" }), 403);
    assert.equal(await upgradeStatus(url, { origin: `http://127.0.0.1:${s.port}` }), 403);
    assert.equal(await upgradeStatus(url), 101);
  });
});

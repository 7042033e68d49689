import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { after, before, describe, it, type TestContext } from "node:test";
import { pino } from "pino";
import { configFrom } from "../../src/config/index.js";
import { mintToken } from "../../src/auth/mint.js";
import { startNode, type RunningNode } from "../../src/supervisor/node.js";
import { SseClient, WsClient, waitUntil, type Frame } from "../helpers/clients.js";
import { TEST_SECRET, randomTenant, startTestServer, tmpDataDir, type TestServer } from "../helpers/server.js";

// Worker crash mid-stream (issue 3): a real node in this process with the test
// hooks on, so an actor worker can be made to throw, exit or run out of heap.

const REQUEST_TIMEOUT_MS = 8000;

interface CrashableServer {
  readonly url: string;
  token(tenant: string): Promise<string>;
  crash(i: number, how: "throw" | "exit" | "oom"): void;
  stop(): Promise<void>;
}

/** startTestServer does not expose crashActorWorker, so this wraps startNode directly. */
async function startCrashable(env: Record<string, string>): Promise<CrashableServer> {
  const dataDir = tmpDataDir();
  const config = configFrom({
    PORT: "0", DATA_DIR: dataDir, AUTH_JWT_SECRET: TEST_SECRET, LOG_LEVEL: "silent", ACTOR_WORKERS: "1",
    SWITCHYARD_TEST_HOOKS: "1", REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS), ...env,
  });
  const node: RunningNode = await startNode(config, pino({ level: config.LOG_LEVEL }));
  return {
    url: `http://127.0.0.1:${node.port}`,
    token: (tenant) => mintToken({ secret: TEST_SECRET, sub: "alice", tenants: [tenant], ttlSeconds: 600 }),
    crash: (i, how) => node.crashActorWorker(i, how),
    async stop() {
      await node.drain("test teardown");
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

interface Attempt {
  readonly status: number;
  readonly ms: number;
  /** For a 503: whether it was in flight when the worker died, or refused while it was down. */
  readonly message?: string | undefined;
}

interface Message {
  seq: number;
  clientMsgId: string | null;
  text: string;
}

describe("actor worker crash mid-stream", () => {
  let s: CrashableServer;
  before(async () => {
    // A small old generation so the "oom" crash hits resourceLimits quickly.
    s = await startCrashable({ ACTOR_MAX_OLD_GEN_MB: "32" });
  });
  after(() => s?.stop());

  const api = (path: string, token: string, tenant: string, body?: unknown) =>
    fetch(`${s.url}${path}`, {
      method: body === undefined ? "GET" : "POST",
      headers: { authorization: `Bearer ${token}`, "x-tenant-id": tenant, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  for (const how of ["throw", "exit", "oom"] as const) {
    it(`crash by ${how}: in-flight publishes fail fast with 503, nothing acknowledged is lost or duplicated, subscribers stay connected`, async (t) => {
      const tenant = randomTenant();
      const token = await s.token(tenant);
      const created = await api("/chat/threads", token, tenant, { title: `crash-${how}` });
      assert.equal(created.status, 201);
      const threadId = ((await created.json()) as { id: string }).id;
      const channel = `thread:${threadId}`;

      // Subscribers that stay connected through the crash: one WS, one SSE.
      const live = await WsClient.connect(s.url, token, tenant);
      t.after(() => live.close());
      const sub = await live.subscribe(channel);
      assert.equal(sub.op, "subscribed");
      const epoch = sub.epoch as string;
      const sse = await SseClient.open(`${s.url}/sse/threads/${threadId}?access_token=${token}&tenant_id=${tenant}`);
      t.after(() => sse.close());
      assert.equal(sse.response.status, 200);

      // Four publisher loops, each retrying a 503 with the same clientMsgId until acknowledged.
      const PER_LOOP = 12;
      const LOOPS = 4;
      const attempts: Attempt[] = [];
      const acked = new Map<string, number>();
      let crashed = false;
      const deadline = Date.now() + 40_000;
      const loop = async (l: number) => {
        for (let i = 0; i < PER_LOOP; i++) {
          const clientMsgId = `m-${l}-${i}`;
          for (;;) {
            assert.ok(Date.now() < deadline, `publish of ${clientMsgId} never acknowledged`);
            const t0 = Date.now();
            const res = await api(`/chat/threads/${threadId}/messages`, token, tenant, { text: `msg ${clientMsgId}`, clientMsgId });
            const body = (await res.json()) as { seq?: number; error?: { code: string; message: string } };
            attempts.push({ status: res.status, ms: Date.now() - t0, message: body.error?.message });
            if (res.status === 201 || res.status === 200) {
              acked.set(clientMsgId, body.seq as number);
              break;
            }
            assert.equal(res.status, 503, `unexpected ${res.status} ${JSON.stringify(body)}`);
            assert.equal(body.error?.code, "not_ready");
            assert.ok(res.headers.get("retry-after"), "a 503 carries Retry-After");
            await new Promise((r) => setTimeout(r, 20)); // retry pacing, not a wait for a condition
          }
          if (!crashed && acked.size >= 10) {
            crashed = true;
            s.crash(0, how);
          }
        }
      };
      await Promise.all(Array.from({ length: LOOPS }, (_, l) => loop(l)));
      const total = PER_LOOP * LOOPS;
      assert.equal(acked.size, total);

      const failed = attempts.filter((a) => a.status === 503);
      const inFlight = failed.filter((a) => /restarted/.test(a.message ?? "")).length;
      t.diagnostic(`${how}: ${attempts.length} attempts, ${failed.length} answered 503 (${inFlight} in flight at the crash), slowest 503 ${Math.max(0, ...failed.map((a) => a.ms))} ms, slowest overall ${Math.max(...attempts.map((a) => a.ms))} ms`);
      // The crash really happened and was visible: requests were refused while the worker was down.
      assert.ok(failed.length > 0, "no request observed the crash (503)");
      // Fail fast: no attempt waited for the request timeout (504 would have failed the loop above).
      for (const a of failed) assert.ok(a.ms < REQUEST_TIMEOUT_MS / 2, `a 503 took ${a.ms} ms`);

      // /readyz recovers once the worker is back.
      let readyOk = false;
      await (async () => {
        const until = Date.now() + 15_000;
        while (Date.now() < until) {
          if ((await fetch(`${s.url}/readyz`)).status === 200) return void (readyOk = true);
          await new Promise((r) => setTimeout(r, 25));
        }
      })();
      assert.ok(readyOk, "/readyz did not recover");
      const metrics = await (await fetch(`${s.url}/metrics`)).text();
      assert.match(metrics, /switchyard_actor_worker_restarts_total\{reason="[a-z]+"\} [1-9]/);

      // History: every acknowledged message exactly once, gapless, at the seq it was acknowledged with.
      const hist = (await (await api(`/chat/threads/${threadId}/messages?after=0&limit=500`, token, tenant)).json()) as { items: Message[]; lastSeq: number };
      assert.deepEqual(hist.items.map((m) => m.seq), Array.from({ length: total }, (_, i) => i + 1));
      assert.equal(hist.lastSeq, total);
      const ids = hist.items.map((m) => m.clientMsgId as string);
      assert.equal(new Set(ids).size, total, "a clientMsgId appears twice in history");
      for (const m of hist.items) assert.equal(acked.get(m.clientMsgId as string), m.seq);

      // A subscriber that stayed connected gets every event once, in order (the hub backfills
      // what the dead worker never forwarded).
      const want = hist.items.map((m) => m.seq);
      await waitUntil(() => live.seqs(channel).length >= total, 10_000, "the live WS subscriber to see every event");
      assert.deepEqual(live.seqs(channel), want);
      assert.equal(live.closeCode, undefined, "the live WS subscriber was disconnected");
      assert.ok(!live.frames.some((f) => f.op === "error"), `error frames: ${JSON.stringify(live.frames.filter((f) => f.op === "error"))}`);
      await waitUntil(() => sse.events.length >= total, 10_000, "the live SSE subscriber to see every event");
      assert.deepEqual(sse.seqs(), want);
      assert.equal(sse.ended, false);

      // Resume from scratch and from the middle: exactly the missing ones, then live.
      const resumer = await WsClient.connect(s.url, token, tenant);
      t.after(() => resumer.close());
      const all = await resumer.subscribe(channel, { since: 0 });
      assert.equal(all.recovered, true);
      const mid = 17;
      const half = await WsClient.connect(s.url, token, tenant);
      t.after(() => half.close());
      const r = await half.subscribe(channel, { since: mid, epoch });
      assert.equal(r.epoch, epoch, "the epoch changed although no history was lost");
      assert.equal(r.recovered, true);
      await waitUntil(() => resumer.seqs(channel).length >= total && half.seqs(channel).length >= total - mid, 10_000, "resumed subscribers to catch up");
      assert.deepEqual(resumer.seqs(channel), want);
      assert.deepEqual(half.seqs(channel), want.slice(mid));
      const ack = await half.publish(channel, { text: "after the crash", clientMsgId: "post-crash" });
      assert.equal(ack.op, "ack");
      assert.equal(ack.seq, total + 1);
      for (const c of [live, resumer, half]) await waitUntil(() => c.seqs(channel).at(-1) === total + 1, 5000, "the post-crash event live");
    });
  }
});

describe("hostile frames", () => {
  let s: TestServer;
  before(async () => {
    // A high frame rate so 1,000 subscribes in a burst hit the subscription limit, not the rate limit.
    s = await startTestServer({ WS_MAX_MESSAGES_PER_S: "100000" });
  });
  after(() => s?.stop());

  /** A second client on the same server: subscribed to a canvas, publishing and acknowledged throughout. */
  async function bystander(t: TestContext): Promise<{ check(label: string): Promise<void> }> {
    const tenant = randomTenant();
    const c = await WsClient.connect(s.url, await s.token(tenant), tenant);
    t.after(() => c.close());
    const channel = `canvas:bystander-${randomTenant()}`;
    assert.equal((await c.subscribe(channel)).op, "subscribed");
    let n = 0;
    return {
      async check(label) {
        n++;
        const ack = await c.publish(channel, { type: "tick", data: { n } });
        assert.equal(ack.op, "ack", `${label}: bystander publish not acknowledged: ${JSON.stringify(ack)}`);
        await waitUntil(() => c.seqs(channel).length === n, 5000, `${label}: bystander event`);
        assert.deepEqual(c.seqs(channel), Array.from({ length: n }, (_, i) => i + 1));
        assert.equal(c.closeCode, undefined);
      },
    };
  }

  /** Sends one frame and returns the next error frame after it. */
  async function errorAfter(c: WsClient, data: string | Buffer): Promise<Frame> {
    const from = c.frames.length;
    c.ws.send(data);
    return c.next((f) => f.op === "error", 5000, from);
  }

  it("garbage, binary, unknown op, wrong types and oversize publishes get error frames; the socket survives", async (t) => {
    const other = await bystander(t);
    const tenant = randomTenant();
    const token = await s.token(tenant);
    const c = await WsClient.connect(s.url, token, tenant);
    t.after(() => c.close());

    assert.equal((await errorAfter(c, "this is not json {")).code, "invalid_json");
    assert.equal((await errorAfter(c, Buffer.from([0, 1, 2, 3, 255]))).code, "invalid_request");
    assert.equal((await errorAfter(c, JSON.stringify({ op: "explode", ref: "u1" }))).code, "invalid_request");
    assert.equal((await errorAfter(c, "[]")).code, "invalid_request");
    assert.equal((await errorAfter(c, "null")).code, "invalid_request");
    assert.equal((await errorAfter(c, JSON.stringify({ op: "subscribe", channel: 42, ref: "w1" }))).ref, "w1");
    const badSince = await errorAfter(c, JSON.stringify({ op: "subscribe", channel: "canvas:ok", since: "3", ref: "w2" }));
    assert.deepEqual([badSince.code, badSince.ref], ["invalid_request", "w2"]);
    assert.equal((await errorAfter(c, JSON.stringify({ op: "subscribe", channel: "canvas:ok", since: -1 }))).code, "invalid_request");
    assert.equal((await errorAfter(c, JSON.stringify({ op: "publish", channel: "canvas:ok", data: "not an object", ref: "w3" }))).code, "invalid_request");
    assert.equal((await errorAfter(c, JSON.stringify({ op: "publish", channel: "canvas:ok", data: { type: 5, data: 1 } }))).code, "invalid_request");
    assert.equal((await errorAfter(c, JSON.stringify({ op: "ping", ref: { nested: true } }))).code, "invalid_request");
    await other.check("after garbage");

    // Oversize payloads inside the frame limit: refused like the same body over HTTP, nothing appended.
    const thread = (await (await s.api("/chat/threads", { token, tenant, body: {} })).json()) as { id: string };
    const bigText = "x".repeat(16_385); // MAX_MESSAGE_BYTES default 16384
    const http = await s.api(`/chat/threads/${thread.id}/messages`, { token, tenant, body: { text: bigText } });
    const httpCode = ((await http.json()) as { error: { code: string } }).error.code;
    const wsBig = await c.publish(`thread:${thread.id}`, { text: bigText });
    assert.deepEqual([wsBig.op, wsBig.code], ["error", httpCode]);
    const wsBigCanvas = await c.publish("canvas:big", { type: "blob", data: "y".repeat(65_537) }); // MAX_EVENT_BYTES 65536
    assert.deepEqual([wsBigCanvas.op, wsBigCanvas.code], ["error", "invalid_request"]);
    const hist = (await (await s.api(`/chat/threads/${thread.id}/messages`, { token, tenant })).json()) as { lastSeq: number };
    assert.equal(hist.lastSeq, 0);

    // Still a working connection.
    c.send({ op: "ping", ref: "alive" });
    assert.equal((await c.next((f) => f.op === "pong" && f.ref === "alive")).op, "pong");
    assert.equal((await c.publish(`thread:${thread.id}`, { text: "fine" })).seq, 1);

    // A frame over maxPayloadLength closes the socket with 1009.
    c.send(JSON.stringify({ op: "publish", channel: "canvas:huge", data: { type: "blob", data: "z".repeat(200_000) } }));
    assert.equal(await c.closed(), 1009);
    // Far over it (past uWS's own cut-off, which sends no close frame) the socket still goes at once.
    const c2 = await WsClient.connect(s.url, token, tenant);
    t.after(() => c2.close());
    c2.send("x".repeat(2_000_000));
    assert.ok([1006, 1009].includes(await c2.closed()), `closed with ${c2.closeCode}`);
    await other.check("after the 1009");
  });

  it("invalid channel names in subscribe and publish are error frames", async (t) => {
    const other = await bystander(t);
    const tenant = randomTenant();
    const token = await s.token(tenant);
    const c = await WsClient.connect(s.url, token, tenant);
    t.after(() => c.close());
    const bad = ["thread:../x", "thread:*", "canvas:a>b", `canvas:${"a".repeat(129)}`, `thread:${"b".repeat(129)}`, "canvas:", "canvas", "room:x", "canvas:a b", "canvas:ä"];
    for (const channel of bad) {
      const sub = await c.subscribe(channel);
      assert.deepEqual([sub.op, sub.code], ["error", "invalid_request"], `subscribe ${channel}`);
      const pub = await c.publish(channel, { type: "x", data: 1 });
      assert.deepEqual([pub.op, pub.code], ["error", "invalid_request"], `publish ${channel}`);
    }
    // A 128-character id is the longest valid one.
    assert.equal((await c.subscribe(`canvas:${"a".repeat(128)}`)).op, "subscribed");
    assert.equal(c.closeCode, undefined);
    await other.check("after invalid channels");
  });

  it("1,000 subscribes: the first 256 are subscribed, the rest limit_exceeded; unsubscribe frees a slot", async (t) => {
    const other = await bystander(t);
    const tenant = randomTenant();
    const token = await s.token(tenant);
    const c = await WsClient.connect(s.url, token, tenant);
    t.after(() => c.close());
    for (let i = 0; i < 1000; i++) c.send({ op: "subscribe", channel: `canvas:c-${i}`, ref: `r${i}` });
    const answered = () => c.frames.filter((f) => typeof f.ref === "string" && /^r\d+$/.test(f.ref)).length;
    await waitUntil(() => answered() >= 1000, 30_000, "an answer to every subscribe");
    const answers = c.frames.filter((f) => typeof f.ref === "string" && /^r\d+$/.test(f.ref));
    const ok = answers.filter((f) => f.op === "subscribed");
    const refused = answers.filter((f) => f.op === "error");
    assert.equal(ok.length, 256);
    assert.equal(refused.length, 744);
    assert.ok(refused.every((f) => f.code === "limit_exceeded"), JSON.stringify(refused.find((f) => f.code !== "limit_exceeded")));
    assert.equal(c.closeCode, undefined);
    await other.check("during 256 subscriptions");

    // A refused subscribe registered nothing: the canvas is still unknown to this tenant.
    for (const f of refused.slice(0, 5)) {
      const res = await s.api(`/canvas/c-${String(f.ref).slice(1)}/events`, { token, tenant });
      assert.equal(res.status, 404, `refused subscribe ${String(f.ref)} registered its canvas`);
    }
    assert.equal((await s.api(`/canvas/${String(ok[0]?.channel).slice(7)}/events`, { token, tenant })).status, 200);

    const held = ok[0]?.channel as string;
    const notHeld = refused[0]?.ref === undefined ? "" : `canvas:c-${String(refused[0].ref).slice(1)}`;
    // Subscribing again to a held channel is not a new subscription.
    assert.equal((await c.subscribe(held)).op, "subscribed");
    assert.equal((await c.subscribe(notHeld)).code, "limit_exceeded");
    // An unsubscribe frees exactly one slot.
    c.send({ op: "unsubscribe", channel: held, ref: "u" });
    await c.next((f) => f.op === "unsubscribed" && f.ref === "u");
    assert.equal((await c.subscribe(notHeld)).op, "subscribed");
    assert.equal((await c.subscribe(held)).code, "limit_exceeded");

    // The held subscriptions are live: an event published on one of them arrives.
    const live = ok[1]?.channel as string;
    const ack = await c.publish(live, { type: "t", data: 1 });
    assert.equal(ack.op, "ack");
    await waitUntil(() => c.seqs(live).length === 1, 5000, "event on a held channel");
    // Refused channels deliver nothing.
    assert.equal(c.events(held).length, 0);
  });
});

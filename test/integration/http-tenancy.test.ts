import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { randomTenant, startTestServer, type TestServer } from "../helpers/server.js";

// SPEC §1/§2: nothing of one tenant is readable, writable or observable by a
// member of another. A token that is not a member of X-Tenant-Id is 403; a
// member of its own tenant asking for another tenant's resource gets the same
// 404 as for an id that never existed.

type Json = Record<string, unknown> & { error?: { code: string; message: string } };

describe("tenant isolation on every route", () => {
  let s: TestServer;
  const A = randomTenant();
  const B = randomTenant();
  let tokenA: string;
  let tokenB: string;
  let threadA: string;
  const canvasA = `board-${A}`;

  before(async () => {
    s = await startTestServer();
    tokenA = await s.token(A);
    tokenB = await s.token(B);
    const t = await s.api("/chat/threads", { token: tokenA, tenant: A, body: { title: "secret plans", metadata: { k: "A-only" } } });
    threadA = ((await t.json()) as { id: string }).id;
    assert.equal((await s.api(`/chat/threads/${threadA}/messages`, { token: tokenA, tenant: A, body: { text: "A's secret", clientMsgId: "k1" } })).status, 201);
    assert.equal((await s.api(`/canvas/${canvasA}/events`, { token: tokenA, tenant: A, body: { type: "draw", data: { secret: true } } })).status, 202);
  });
  after(() => s.stop());

  const routes = (): [string, string, unknown][] => [
    ["POST", "/chat/threads", { title: "x" }],
    ["GET", "/chat/threads", undefined],
    ["GET", `/chat/threads/${threadA}`, undefined],
    ["POST", `/chat/threads/${threadA}/messages`, { text: "intrusion", clientMsgId: "k1" }],
    ["GET", `/chat/threads/${threadA}/messages`, undefined],
    ["POST", `/canvas/${canvasA}/events`, { type: "draw", data: 1 }],
    ["GET", `/canvas/${canvasA}/events`, undefined],
  ];

  const assertNoLeak = (text: string, label: string): void => {
    for (const secret of ["A's secret", "secret plans", "A-only", threadA]) assert.ok(!text.includes(secret), `${label} leaked ${secret}`);
  };

  it("B's token acting as A: 403 forbidden_tenant on every route, no data", async () => {
    for (const [method, path, body] of routes()) {
      const res = await s.api(path, { method, token: tokenB, tenant: A, body });
      const text = await res.text();
      assert.equal(res.status, 403, `${method} ${path}: ${text}`);
      assert.equal((JSON.parse(text) as Json).error?.code, "forbidden_tenant", `${method} ${path}`);
      assertNoLeak(text.replace(threadA, ""), `${method} ${path}`); // the request id may not echo the path, but be safe
    }
  });

  it("B acting as B on A's resources: 404 exactly like a missing id", async () => {
    const missingThread = "th_neverexisted0000000";
    const pairs: [string, string, string, unknown][] = [
      ["GET", `/chat/threads/${threadA}`, `/chat/threads/${missingThread}`, undefined],
      ["POST", `/chat/threads/${threadA}/messages`, `/chat/threads/${missingThread}/messages`, { text: "hi" }],
      ["GET", `/chat/threads/${threadA}/messages`, `/chat/threads/${missingThread}/messages`, undefined],
      ["GET", `/canvas/${canvasA}/events`, `/canvas/never-${B}/events`, undefined],
    ];
    for (const [method, foreign, missing, body] of pairs) {
      const f = await s.api(foreign, { method, token: tokenB, tenant: B, body });
      const m = await s.api(missing, { method, token: tokenB, tenant: B, body });
      const ft = await f.text();
      assert.equal(f.status, 404, `${method} ${foreign}: ${ft}`);
      assert.equal(m.status, 404, `${method} ${missing}`);
      const fe = (JSON.parse(ft) as Json).error;
      const me = ((await m.json()) as Json).error;
      assert.deepEqual([fe?.code, fe?.message], [me?.code, me?.message], `${method}: foreign and missing differ`);
      assertNoLeak(ft, `${method} ${foreign}`);
    }
  });

  it("the same canvas id in two tenants is two canvases", async () => {
    const pub = await s.api(`/canvas/${canvasA}/events`, { token: tokenB, tenant: B, body: { type: "draw", data: { from: "B" } } });
    assert.equal(pub.status, 202);
    assert.deepEqual(await pub.json(), { canvasId: canvasA, seq: 1 }, "B's canvas starts at seq 1, not after A's events");
    const histB = (await (await s.api(`/canvas/${canvasA}/events`, { token: tokenB, tenant: B })).json()) as { items: { data: unknown }[]; lastSeq: number };
    assert.deepEqual(histB.items.map((e) => e.data), [{ from: "B" }]);
    const histA = (await (await s.api(`/canvas/${canvasA}/events`, { token: tokenA, tenant: A })).json()) as { items: { data: unknown }[]; lastSeq: number };
    assert.deepEqual(histA.items.map((e) => e.data), [{ secret: true }]);
    assert.equal(histA.lastSeq, 1);
  });

  it("B's thread list never contains A's threads", async () => {
    await s.api("/chat/threads", { token: tokenB, tenant: B, body: { title: "B's own" } });
    const list = (await (await s.api("/chat/threads", { token: tokenB, tenant: B })).json()) as { items: { tenantId: string; title: string }[] };
    assert.ok(list.items.length >= 1);
    assert.ok(list.items.every((t) => t.tenantId === B));
    assertNoLeak(JSON.stringify(list), "list");
  });

  it("a token of both tenants sees each only through its X-Tenant-Id", async () => {
    const both = await s.token([A, B]);
    assert.equal((await s.api(`/chat/threads/${threadA}`, { token: both, tenant: A })).status, 200);
    assert.equal((await s.api(`/chat/threads/${threadA}`, { token: both, tenant: B })).status, 404);
  });

  it("missing X-Tenant-Id is 400 invalid_request; a malformed one is 403", async () => {
    for (const [method, path, body] of routes()) {
      const res = await s.api(path, { method, token: tokenA, body });
      assert.equal(res.status, 400, `${method} ${path}`);
      const e = ((await res.json()) as Json).error;
      assert.equal(e?.code, "invalid_request");
    }
    for (const bad of ["../" + A, `${A},${B}`, "*", ">", "x".repeat(129)]) {
      const res = await s.api("/chat/threads", { token: tokenA, tenant: bad });
      assert.equal(res.status, 403, bad);
    }
  });
});

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { randomTenant, startTestServer, type TestServer } from "../helpers/server.js";

describe("original requirements over HTTP", () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
  });
  after(() => s.stop());

  it("L1-T1 thread created over HTTP is registered to its tenant before the response", async () => {
    const tenant = randomTenant();
    const token = await s.token(tenant);
    const res = await s.api("/chat/threads", { token, tenant, body: { title: "first" } });
    assert.equal(res.status, 201);
    const thread = (await res.json()) as { id: string; tenantId: string; lastSeq: number };
    assert.equal(thread.tenantId, tenant);
    assert.equal(thread.lastSeq, 0);
    // Immediately usable by its tenant...
    const post = await s.api(`/chat/threads/${thread.id}/messages`, { token, tenant, body: { text: "hello" } });
    assert.equal(post.status, 201);
    const got = await s.api(`/chat/threads/${thread.id}`, { token, tenant });
    assert.equal(((await got.json()) as { lastSeq: number }).lastSeq, 1);
    // ...and invisible to any other tenant, exactly like an id that does not exist.
    const other = randomTenant();
    const otherToken = await s.token(other);
    const foreign = await s.api(`/chat/threads/${thread.id}`, { token: otherToken, tenant: other });
    const missing = await s.api(`/chat/threads/th_doesnotexist`, { token: otherToken, tenant: other });
    assert.equal(foreign.status, 404);
    assert.equal(missing.status, 404);
    const a = (await foreign.json()) as { error: { code: string; message: string } };
    const b = (await missing.json()) as { error: { code: string; message: string } };
    assert.deepEqual([a.error.code, a.error.message], [b.error.code, b.error.message]);
  });

  it("L1-T2 mounted routes answer 401 without credentials, unknown routes 404", async () => {
    for (const [method, path] of [["GET", "/chat/threads"], ["POST", "/chat/threads"], ["GET", "/canvas/board-1/events"], ["POST", "/canvas/board-1/events"]] as const) {
      const res = await s.api(path, { method });
      assert.equal(res.status, 401, `${method} ${path}`);
      assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer/);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, "unauthenticated");
    }
    const unknown = await s.api("/no/such/route");
    assert.equal(unknown.status, 404);
    assert.equal(((await unknown.json()) as { error: { code: string } }).error.code, "not_found");
  });
});

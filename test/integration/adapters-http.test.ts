import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { WsClient } from "../helpers/clients.js";
import { randomTenant, startTestServer, type TestServer } from "../helpers/server.js";

type Err = { error: { code: string } };
const code = async (r: Response): Promise<string> => ((await r.json()) as Err).error.code;

describe("adapter routes through the main server", () => {
  let s: TestServer;
  before(async () => {
    // FIRESTORE_PROJECT_ID unset: the firestore dataset backend cannot be configured and falls back.
    s = await startTestServer({ NEXUS_BACKEND: "firestore", MEDIA_BACKEND: "sqlite" });
  });
  after(() => s.stop());

  it("L1-T2 L3-T2 feature flags are mounted with auth enforced: 401 without a token, 403 for non-admin writes, not 404", async () => {
    const tenant = randomTenant();
    assert.equal((await s.api("/feature-flags")).status, 401);
    assert.equal((await s.api("/feature-flags/new-ui")).status, 401);
    assert.equal((await s.api("/feature-flags/new-ui", { method: "PUT", body: { enabled: true } })).status, 401);
    const user = await s.token(tenant);
    const admin = await s.token(tenant, { admin: true });
    const list = await s.api("/feature-flags", { token: user, tenant });
    assert.equal(list.status, 200);
    assert.ok(Array.isArray(((await list.json()) as { items: unknown[] }).items));
    const denied = await s.api("/feature-flags/new-ui", { method: "PUT", token: user, tenant, body: { enabled: true } });
    assert.deepEqual([denied.status, await code(denied)], [403, "forbidden_role"]);
    const other = randomTenant();
    assert.deepEqual(await code(await s.api("/feature-flags", { token: user, tenant: other })), "forbidden_tenant");
    const created = await s.api("/feature-flags/new-ui", { method: "PUT", token: admin, tenant, body: { enabled: true, rollout: 50 } });
    assert.equal(created.status, 201);
    const updated = await s.api("/feature-flags/new-ui", { method: "PUT", token: admin, tenant, body: { enabled: false } });
    assert.equal(updated.status, 200);
    const got = (await (await s.api("/feature-flags/new-ui", { token: user, tenant })).json()) as { enabled: boolean; scope: string };
    assert.deepEqual([got.enabled, got.scope], [false, "tenant"]);
    assert.equal((await s.api("/feature-flags/new-ui", { token: user, tenant: other })).status, 403);
    const otherToken = await s.token(other);
    const otherView = await s.api("/feature-flags/new-ui", { token: otherToken, tenant: other });
    assert.equal(otherView.status, 404, "another tenant's override is invisible");
    assert.equal((await s.api("/feature-flags/Bad Key!", { token: user, tenant })).status, 400);
    assert.equal((await s.api("/feature-flags/new-ui", { method: "DELETE", token: admin, tenant })).status, 204);
    assert.equal((await s.api("/feature-flags/new-ui", { token: user, tenant })).status, 404);
  });

  it("L2-T2 media v2 GET and list: 401 / 403 forbidden_tenant / 403 context_mismatch / 404 / 200", async () => {
    const a = randomTenant();
    const b = randomTenant();
    const ta = await s.token(a);
    const tb = await s.token(b);
    const created = await s.api("/media-v2/assets", { token: ta, tenant: a, body: { tenant_id: a, kind: "image", uri: "https://cdn.example/x.png", contentType: "image/png" } });
    assert.equal(created.status, 201);
    const asset = (await created.json()) as { id: string; tenantId: string };
    assert.equal(asset.tenantId, a);
    assert.equal((await s.api(`/media-v2/assets/${asset.id}?tenant_id=${a}`)).status, 401);
    assert.equal((await s.api(`/media-v2/assets?tenant_id=${a}`)).status, 401);
    const notMember = await s.api(`/media-v2/assets/${asset.id}?tenant_id=${a}`, { token: tb, tenant: a });
    assert.deepEqual([notMember.status, await code(notMember)], [403, "forbidden_tenant"]);
    const mismatch = await s.api(`/media-v2/assets?tenant_id=${a}`, { token: tb, tenant: b });
    assert.deepEqual([mismatch.status, await code(mismatch)], [403, "context_mismatch"]);
    const foreign = await s.api(`/media-v2/assets/${asset.id}?tenant_id=${b}`, { token: tb, tenant: b });
    assert.equal(foreign.status, 404);
    assert.equal((await s.api(`/media-v2/assets/nope?tenant_id=${a}`, { token: ta, tenant: a })).status, 404);
    const ok = await s.api(`/media-v2/assets/${asset.id}?tenant_id=${a}`, { token: ta, tenant: a });
    assert.equal(ok.status, 200);
    const list = (await (await s.api(`/media-v2/assets?tenant_id=${a}`, { token: ta, tenant: a })).json()) as { items: { id: string }[] };
    assert.deepEqual(list.items.map((i) => i.id), [asset.id]);
    const wrongBody = await s.api("/media-v2/assets", { token: ta, tenant: a, body: { tenant_id: b, kind: "image", uri: "https://x/y" } });
    assert.deepEqual([wrongBody.status, await code(wrongBody)], [403, "context_mismatch"]);
  });

  it("L2-T1 registering a raw asset persists its metadata before answering; GET reads it back; other tenants get 404", async () => {
    const tenant = randomTenant();
    const token = await s.token(tenant);
    const res = await s.api("/nexus/raw/assets", { token, tenant, body: { filename: "../../etc/passwd", contentType: "text/plain", bytes: 12, metadata: { k: "v" } } });
    assert.equal(res.status, 201);
    const asset = (await res.json()) as { assetId: string; tenantId: string; filename: string; status: string; upload: { method: string; url: string } };
    assert.equal(asset.tenantId, tenant);
    assert.equal(asset.status, "registered");
    assert.equal(asset.upload.method, "PUT");
    assert.doesNotMatch(asset.filename, /\.\.|\//);
    const got = await s.api(`/nexus/raw/assets/${asset.assetId}`, { token, tenant });
    assert.equal(got.status, 200);
    const back = (await got.json()) as Record<string, unknown>;
    assert.deepEqual(back.metadata, { k: "v" });
    const list = (await (await s.api("/nexus/raw/assets", { token, tenant })).json()) as { items: { assetId: string }[] };
    assert.deepEqual(list.items.map((i) => i.assetId), [asset.assetId]);
    const other = randomTenant();
    assert.equal((await s.api(`/nexus/raw/assets/${asset.assetId}`, { token: await s.token(other), tenant: other })).status, 404);
    assert.equal((await s.api("/nexus/raw/assets", { token, tenant, body: { filename: "x" } })).status, 400);
  });

  it("L3-T1 dataset logging falls back when Firestore is not configured and still answers accepted; audit events are written", async () => {
    const ready = (await (await fetch(`${s.url}/readyz`)).json()) as { checks: { logging: string } };
    assert.match(ready.checks.logging, /fallback/i);
    assert.match(ready.checks.logging, /firestore/i);
    const tenant = randomTenant();
    const token = await s.token(tenant);
    const admin = await s.token(tenant, { admin: true });
    const res = await s.api("/logging/events", { token, tenant, body: { type: "page.view", dataset: "web", payload: { path: "/" } } });
    assert.equal(res.status, 202);
    const body = (await res.json()) as { status: string; eventId: string; backend: string };
    assert.equal(body.status, "accepted");
    assert.match(body.backend, /spool|fallback/i);
    assert.equal((await s.api("/logging/events", { token, tenant })).status, 403, "listing is admin-only");
    const listed = (await (await s.api("/logging/events?dataset=web", { token: admin, tenant })).json()) as { items: { eventId: string }[] };
    assert.ok(listed.items.some((i) => i.eventId === body.eventId));
    // The POST above and a refused admin call leave audit events in this tenant; a caller that is
    // not a member is refused before the tenant is established, so its event goes to the reserved
    // _anonymous tenant with the claimed tenant named (nobody can write into a trail they cannot join).
    await s.api("/feature-flags/x", { method: "PUT", token, tenant, body: { enabled: true } });
    await s.api("/chat/threads", { token: await s.token(randomTenant()), tenant });
    // Refused WS upgrades and SSE subscribes are audited the same way.
    const outsider = await s.token(randomTenant());
    await assert.rejects(WsClient.connect(s.url, outsider, tenant), (e: Error & { status?: number }) => e.status === 403);
    assert.equal((await fetch(`${s.url}/sse/canvas/c1?tenant_id=${tenant}`)).status, 401);
    type AuditPage = { items: { tenantId: string; payload: { route: string; status: number; code: string | null; claimedTenant: string | null } }[] };
    const read = async (t: string, tok: string) => (await (await s.api("/logging/events?dataset=audit&limit=500", { token: tok, tenant: t })).json()) as AuditPage;
    const anonAdmin = await s.token("_anonymous", { admin: true });
    let mine: AuditPage = { items: [] };
    let anon: AuditPage = { items: [] };
    const deadline = Date.now() + 5000;
    do {
      mine = await read(tenant, admin);
      anon = await read("_anonymous", anonAdmin);
      if (mine.items.some((i) => i.payload.code === "forbidden_role") && anon.items.filter((i) => i.payload.claimedTenant === tenant).length >= 3) break;
      await new Promise((r) => setTimeout(r, 50));
    } while (Date.now() < deadline);
    assert.ok(mine.items.some((i) => i.payload.route === "/logging/events" && i.payload.status === 202), "mutation audited");
    assert.ok(mine.items.some((i) => i.payload.code === "forbidden_role" && i.payload.status === 403), "in-tenant refusal audited");
    assert.ok(mine.items.every((i) => i.tenantId === tenant));
    assert.ok(anon.items.some((i) => i.payload.claimedTenant === tenant && i.payload.code === "forbidden_tenant" && i.payload.route === "/chat/threads"), "pre-tenant refusal audited under _anonymous");
    assert.ok(anon.items.some((i) => i.payload.claimedTenant === tenant && i.payload.route === "/ws" && i.payload.status === 403), "refused WS upgrade audited");
    assert.ok(anon.items.some((i) => i.payload.claimedTenant === tenant && i.payload.route === "/sse/canvas/:id" && i.payload.status === 401), "refused SSE audited");
  });
  it("a burst of concurrent mutations in two tenants is audited exactly once each, each in its own tenant", async () => {
    // A front sends its audit entries once per event-loop turn; none may be lost, doubled or cross tenants.
    const tenants = [randomTenant(), randomTenant()];
    const ids = new Map<string, string>();
    const sent: Promise<Response>[] = [];
    for (const [t, tenant] of tenants.entries()) {
      const token = await s.token(tenant);
      const thread = (await (await s.api("/chat/threads", { token, tenant, body: {} })).json()) as { id: string };
      for (let i = 0; i < 30; i++) {
        const rid = `burst-${t}-${i}-${Math.random().toString(36).slice(2, 8)}`;
        ids.set(rid, tenant);
        sent.push(s.api(`/chat/threads/${thread.id}/messages`, { token, tenant, body: { text: `m${i}` }, headers: { "x-request-id": rid } }));
      }
    }
    for (const r of await Promise.all(sent)) assert.equal(r.status, 201);
    type Page = { items: { tenantId: string; type: string; payload: { requestId: string; status: number } }[] };
    const seen = new Map<string, Page["items"]>();
    const deadline = Date.now() + 5000;
    do {
      seen.clear();
      for (const tenant of tenants) {
        const admin = await s.token(tenant, { admin: true });
        const page = (await (await s.api("/logging/events?dataset=audit&limit=500", { token: admin, tenant })).json()) as Page;
        for (const item of page.items.filter((i) => i.payload.requestId?.startsWith("burst-"))) seen.set(item.payload.requestId, [...(seen.get(item.payload.requestId) ?? []), item]);
      }
      if (seen.size === ids.size) break;
      await new Promise((r) => setTimeout(r, 50));
    } while (Date.now() < deadline);
    assert.equal(seen.size, ids.size, "every request audited");
    for (const [rid, items] of seen) {
      assert.equal(items.length, 1, `${rid} audited ${items.length} times`);
      const item = items[0]!;
      assert.equal(item.tenantId, ids.get(rid), `${rid} in the wrong tenant`);
      assert.deepEqual([item.type, item.payload.status], ["http.mutation", 201]);
    }
  });
});

describe("the memory asset backends are bounded (RAW_MEMORY_MAX_ASSETS, MEDIA_MEMORY_MAX_ASSETS)", () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ RAW_MEMORY_MAX_ASSETS: "2", MEDIA_BACKEND: "memory", MEDIA_MEMORY_MAX_ASSETS: "1" });
  });
  after(() => s.stop());

  it("past the bound a register answers 400 limit_exceeded and the assets already registered stay readable", async () => {
    const tenant = randomTenant();
    const token = await s.token(tenant);
    const ids: string[] = [];
    for (const filename of ["a.txt", "b.txt"]) {
      const r = await s.api("/nexus/raw/assets", { token, tenant, body: { filename, contentType: "text/plain" } });
      assert.equal(r.status, 201);
      ids.push(((await r.json()) as { assetId: string }).assetId);
    }
    const full = await s.api("/nexus/raw/assets", { token, tenant, body: { filename: "c.txt", contentType: "text/plain" } });
    assert.equal(full.status, 400);
    const body = (await full.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, "limit_exceeded");
    assert.match(body.error.message, /RAW_MEMORY_MAX_ASSETS/);
    for (const id of ids) assert.equal((await s.api(`/nexus/raw/assets/${id}`, { token, tenant })).status, 200);
    const list = (await (await s.api("/nexus/raw/assets", { token, tenant })).json()) as { items: unknown[] };
    assert.equal(list.items.length, 2);
  });

  it("media v2 on memory: past the bound a create answers 400 limit_exceeded and the asset created stays", async () => {
    const tenant = randomTenant();
    const token = await s.token(tenant);
    const body = (n: number) => ({ tenant_id: tenant, kind: "image", uri: `https://cdn.example/${n}.png`, contentType: "image/png" });
    const first = await s.api("/media-v2/assets", { token, tenant, body: body(1) });
    assert.equal(first.status, 201);
    const { id } = (await first.json()) as { id: string };
    const full = await s.api("/media-v2/assets", { token, tenant, body: body(2) });
    assert.equal(full.status, 400);
    const err = (await full.json()) as { error: { code: string; message: string } };
    assert.equal(err.error.code, "limit_exceeded");
    assert.match(err.error.message, /MEDIA_MEMORY_MAX_ASSETS=1/);
    assert.equal((await s.api(`/media-v2/assets/${id}?tenant_id=${tenant}`, { token, tenant })).status, 200);
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { WsClient } from "../helpers/clients.js";
import { randomTenant, startTestServer } from "../helpers/server.js";

type ErrorBody = { error: { code: string; details?: { gate?: string; reason?: string } } };

describe("GateChain over HTTP and WS", () => {
  it("L2-T3 missing budget/KPI config passes in dev, blocks in prod, passes in prod with GATECHAIN_ALLOW_MISSING=1", async (t) => {
    for (const [env, expected] of [
      [{ APP_ENV: "dev" }, 201],
      [{ APP_ENV: "staging" }, 201],
      [{ APP_ENV: "prod" }, 403],
      [{ APP_ENV: "prod", GATECHAIN_ALLOW_MISSING: "1" }, 201],
    ] as const) {
      const s = await startTestServer({ ...env });
      t.after(() => s.stop());
      const tenant = randomTenant();
      const token = await s.token(tenant);
      const thread = await s.api("/chat/threads", { token, tenant, body: {} });
      assert.equal(thread.status, 201, "thread creation is not gated");
      const { id } = (await thread.json()) as { id: string };
      const post = await s.api(`/chat/threads/${id}/messages`, { token, tenant, body: { text: "hi" } });
      assert.equal(post.status, expected, JSON.stringify(env));
      if (expected === 403) {
        const body = (await post.json()) as ErrorBody;
        assert.equal(body.error.code, "gate_blocked");
        assert.equal(body.error.details?.reason, "budget_not_configured");
        // Configure a budget: the KPI gate is next and still missing.
        const admin = await s.token(tenant, { admin: true });
        assert.equal((await s.api(`/gatechain/budgets/${tenant}`, { method: "PUT", token: admin, tenant, body: { limit: 100, windowSeconds: 60 } })).status, 200);
        const next = (await (await s.api(`/chat/threads/${id}/messages`, { token, tenant, body: { text: "hi" } })).json()) as ErrorBody;
        assert.equal(next.error.details?.reason, "kpi_not_configured");
        assert.equal((await s.api(`/gatechain/kpis/${tenant}`, { method: "PUT", token: admin, tenant, body: { kpis: [{ name: "error_rate", max: 0.05 }] } })).status, 200);
        assert.equal((await s.api(`/chat/threads/${id}/messages`, { token, tenant, body: { text: "hi" } })).status, 201);
      }
    }
  });

  it("budgets, KPIs and admin routes: role enforced, usage counted, blocks with reasons, WS publish gated too", async (t) => {
    const s = await startTestServer();
    t.after(() => s.stop());
    const tenant = randomTenant();
    const user = await s.token(tenant);
    const admin = await s.token(tenant, { admin: true });
    assert.equal((await s.api(`/gatechain/budgets/${tenant}`, { method: "PUT", token: user, tenant, body: { limit: 3, windowSeconds: 3600 } })).status, 403);
    const other = randomTenant();
    const mismatch = await s.api(`/gatechain/budgets/${other}`, { method: "PUT", token: admin, tenant, body: { limit: 3, windowSeconds: 3600 } });
    assert.equal(((await mismatch.json()) as ErrorBody).error.code, "context_mismatch");
    assert.equal((await s.api(`/gatechain/budgets/${tenant}`, { method: "PUT", token: admin, tenant, body: { limit: 3, windowSeconds: 3600 } })).status, 200);
    const bad = await s.api(`/gatechain/budgets/${tenant}`, { method: "PUT", token: admin, tenant, body: { limit: -1, windowSeconds: 0 } });
    assert.equal(bad.status, 400);

    const { id } = (await (await s.api("/chat/threads", { token: user, tenant, body: {} })).json()) as { id: string };
    for (let i = 0; i < 2; i++) assert.equal((await s.api(`/chat/threads/${id}/messages`, { token: user, tenant, body: { text: `m${i}` } })).status, 201);
    const ws = await WsClient.connect(s.url, user, tenant);
    t.after(() => ws.close());
    const viaWs = await ws.publish(`thread:${id}`, { text: "via ws" });
    assert.equal(viaWs.op, "ack", JSON.stringify(viaWs));
    const blockedWs = await ws.publish(`thread:${id}`, { text: "over budget" });
    assert.deepEqual([blockedWs.op, blockedWs.code], ["error", "gate_blocked"]);
    const blocked = await s.api(`/chat/threads/${id}/messages`, { token: user, tenant, body: { text: "over" } });
    assert.equal(blocked.status, 403);
    assert.equal(((await blocked.json()) as ErrorBody).error.details?.reason, "budget_exhausted");
    assert.ok(Number(blocked.headers.get("retry-after")) > 0);

    const status = (await (await s.api(`/gatechain/status?tenant_id=${tenant}`, { token: admin, tenant })).json()) as {
      budget: { used: number; remaining: number };
      lastDecisions: unknown[];
    };
    assert.equal(status.budget.used, 3);
    assert.equal(status.budget.remaining, 0);
    assert.ok(status.lastDecisions.length >= 4);

    // KPI out of bounds blocks until an observation is back inside.
    await s.api(`/gatechain/budgets/${tenant}`, { method: "PUT", token: admin, tenant, body: { limit: 1000, windowSeconds: 60 } });
    await s.api(`/gatechain/kpis/${tenant}`, { method: "PUT", token: admin, tenant, body: { kpis: [{ name: "latency_ms", max: 500 }] } });
    assert.equal((await s.api(`/gatechain/kpis/${tenant}/observations`, { token: admin, tenant, body: { name: "latency_ms", value: 900 } })).status, 200);
    const kpiBlocked = await s.api(`/canvas/c1/events`, { token: user, tenant, body: { type: "x", data: 1 } });
    assert.equal(((await kpiBlocked.json()) as ErrorBody).error.details?.reason, "kpi_out_of_bounds");
    await s.api(`/gatechain/kpis/${tenant}/observations`, { token: admin, tenant, body: { name: "latency_ms", value: 100 } });
    assert.equal((await s.api(`/canvas/c1/events`, { token: user, tenant, body: { type: "x", data: 1 } })).status, 202);
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    assert.match(metrics, /switchyard_gate_decisions_total\{[^}]*outcome="deny"[^}]*\} [1-9]/);
  });
});

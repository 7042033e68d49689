import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GATE_ACTIONS } from "../../../src/gatechain/gate.js";
import { expectAppError, openService } from "./helpers.js";

describe("GateChain missing configuration (SPEC §4 GateChain)", () => {
  it("L2-T3 dev passes every gated action without budget or KPI config", async () => {
    const { svc } = await openService({ APP_ENV: "dev" });
    for (const action of GATE_ACTIONS) svc.admit({ tenantId: "t1", action });
    assert.equal(svc.status("t1").budget, null);
    assert.equal(svc.status("t1").lastDecisions.length, GATE_ACTIONS.length);
    assert.ok(svc.status("t1").lastDecisions.every((d) => d.allow));
    await svc.close();
  });

  it("L2-T3 staging passes without budget or KPI config", async () => {
    const { svc } = await openService({ APP_ENV: "staging" });
    svc.admit({ tenantId: "t1", action: "message.post" });
    await svc.close();
  });

  it("L2-T3 prod without a budget → 403 gate_blocked budget_not_configured", async () => {
    const { svc } = await openService({ APP_ENV: "prod" });
    const err = expectAppError(() => svc.admit({ tenantId: "t1", action: "message.post" }), "ERR_GATE_BLOCKED");
    assert.equal(err.status, 403);
    assert.equal(err.code, "gate_blocked");
    assert.deepEqual(err.details, { gate: "budget", reason: "budget_not_configured" });
    await svc.close();
  });

  it("L2-T3 prod with a budget but no KPI config → 403 gate_blocked kpi_not_configured", async () => {
    const { svc } = await openService({ APP_ENV: "prod" });
    await svc.putBudget("t1", { limit: 10, windowSeconds: 60 });
    const err = expectAppError(() => svc.admit({ tenantId: "t1", action: "canvas.event" }), "ERR_GATE_BLOCKED");
    assert.equal(err.status, 403);
    assert.deepEqual(err.details, { gate: "kpi", reason: "kpi_not_configured" });
    // A refused action uses no budget.
    assert.equal(svc.status("t1").budget?.used, 0);
    await svc.close();
  });

  it("L2-T3 prod passes once budget and KPIs (even an empty KPI list) are configured", async () => {
    const { svc } = await openService({ APP_ENV: "prod" });
    await svc.putBudget("t1", { limit: 10, windowSeconds: 60 });
    await svc.putKpis("t1", { kpis: [] });
    svc.admit({ tenantId: "t1", action: "media.create" });
    assert.equal(svc.status("t1").budget?.used, 1);
    // Another tenant's config does not count for t2.
    expectAppError(() => svc.admit({ tenantId: "t2", action: "media.create" }), "ERR_GATE_BLOCKED");
    await svc.close();
  });

  it("L2-T3 prod with GATECHAIN_ALLOW_MISSING=1 passes without budget or KPI config", async () => {
    const { svc } = await openService({ APP_ENV: "prod", GATECHAIN_ALLOW_MISSING: "1" });
    for (const action of GATE_ACTIONS) svc.admit({ tenantId: "t1", action });
    await svc.close();
  });

  it("L2-T3 allow-missing never bypasses a configured budget", async () => {
    const { svc } = await openService({ APP_ENV: "dev" });
    await svc.putBudget("t1", { limit: 1, windowSeconds: 60 });
    svc.admit({ tenantId: "t1", action: "message.post" });
    const err = expectAppError(() => svc.admit({ tenantId: "t1", action: "message.post" }), "ERR_GATE_BLOCKED");
    assert.deepEqual(err.details, { gate: "budget", reason: "budget_exhausted" });
    await svc.close();
  });
});

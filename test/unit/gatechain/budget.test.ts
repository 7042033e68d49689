import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { expectAppError, expectAppErrorAsync, openService, T0 } from "./helpers.js";

const post = { tenantId: "t1", action: "message.post" } as const;

describe("budget gate", () => {
  it("counts one unit per gated action per window; over the limit → 403 budget_exhausted until the window ends", async () => {
    const { svc, clock } = await openService({ APP_ENV: "prod" });
    await svc.putBudget("t1", { limit: 3, windowSeconds: 60 });
    await svc.putKpis("t1", { kpis: [] });
    clock.now = T0 + 10_000; // 50 s left in the window [T0, T0+60s)
    for (let i = 0; i < 3; i++) svc.admit(post);
    const err = expectAppError(() => svc.admit({ tenantId: "t1", action: "canvas.event" }), "ERR_GATE_BLOCKED");
    assert.equal(err.status, 403);
    assert.deepEqual(err.details, { gate: "budget", reason: "budget_exhausted" });
    assert.equal(err.retryAfterS, 50);
    assert.deepEqual(svc.status("t1").budget, {
      limit: 3,
      windowSeconds: 60,
      used: 3,
      remaining: 0,
      windowEndsAt: new Date(T0 + 60_000).toISOString(),
    });

    clock.now = T0 + 59_999; // still the same window
    expectAppError(() => svc.admit(post), "ERR_GATE_BLOCKED");
    clock.now = T0 + 60_000; // next window: counting starts again
    assert.equal(svc.status("t1").budget?.used, 0);
    for (let i = 0; i < 3; i++) svc.admit(post);
    expectAppError(() => svc.admit(post), "ERR_GATE_BLOCKED");
    assert.equal(svc.status("t1").budget?.windowEndsAt, new Date(T0 + 120_000).toISOString());
    await svc.close();
  });

  it("limit 0 refuses everything; raising the limit takes effect at once and keeps the count", async () => {
    const { svc } = await openService({ APP_ENV: "dev" });
    await svc.putBudget("t1", { limit: 0, windowSeconds: 3600 });
    expectAppError(() => svc.admit(post), "ERR_GATE_BLOCKED");
    await svc.putBudget("t1", { limit: 2, windowSeconds: 3600 });
    svc.admit(post);
    await svc.putBudget("t1", { limit: 1, windowSeconds: 3600 });
    expectAppError(() => svc.admit(post), "ERR_GATE_BLOCKED");
    assert.equal(svc.status("t1").budget?.remaining, 0);
    await svc.close();
  });

  it("budgets are per tenant", async () => {
    const { svc } = await openService({ APP_ENV: "dev" });
    await svc.putBudget("t1", { limit: 1, windowSeconds: 60 });
    await svc.putBudget("t2", { limit: 1, windowSeconds: 60 });
    svc.admit(post);
    svc.admit({ tenantId: "t2", action: "message.post" });
    expectAppError(() => svc.admit(post), "ERR_GATE_BLOCKED");
    await svc.close();
  });

  it("an action refused by the kpi gate uses no budget", async () => {
    const { svc } = await openService({ APP_ENV: "dev" });
    await svc.putBudget("t1", { limit: 5, windowSeconds: 60 });
    await svc.putKpis("t1", { kpis: [{ name: "err_rate", max: 0.1 }] });
    await svc.observe("t1", { name: "err_rate", value: 0.5 });
    for (let i = 0; i < 3; i++) expectAppError(() => svc.admit(post), "ERR_GATE_BLOCKED");
    assert.equal(svc.status("t1").budget?.used, 0);
    await svc.close();
  });

  it("putBudget validates its body and tenant id (400 invalid_request with field issues)", async () => {
    const { svc } = await openService();
    for (const body of [
      { limit: -1, windowSeconds: 60 },
      { limit: 1.5, windowSeconds: 60 },
      { limit: 1, windowSeconds: 0 },
      { limit: 1, windowSeconds: 31_536_001 },
      { limit: 1 },
      { limit: 1, windowSeconds: 60, extra: true },
      "nope",
    ]) {
      const err = await expectAppErrorAsync(svc.putBudget("t1", body), "ERR_INVALID_REQUEST");
      assert.equal(err.status, 400);
      assert.ok(Array.isArray(err.details) && err.details.length > 0, JSON.stringify(body));
    }
    await expectAppErrorAsync(svc.putBudget("bad/tenant", { limit: 1, windowSeconds: 60 }), "ERR_INVALID_REQUEST");
    assert.equal(svc.status("t1").budget, null);
    const ok = await svc.putBudget("t1", { limit: 0, windowSeconds: 31_536_000 });
    assert.equal(ok.limit, 0);
    await svc.close();
  });
});

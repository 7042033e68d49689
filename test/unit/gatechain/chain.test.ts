import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Registry } from "prom-client";
import { AppError } from "../../../src/errors/index.js";
import { BudgetGate } from "../../../src/gatechain/budget.js";
import { GATE_DECISIONS_METRIC, GateChain } from "../../../src/gatechain/chain.js";
import { KillswitchGate } from "../../../src/gatechain/killswitch.js";
import { RateGate } from "../../../src/gatechain/rate.js";
import { GateSnapshot } from "../../../src/gatechain/snapshot.js";
import { expectAppError, expectAppErrorAsync, openService } from "./helpers.js";

const post = { tenantId: "t1", action: "message.post" } as const;

async function metricValues(registry: Registry): Promise<Map<string, number>> {
  const metric = registry.getSingleMetric(GATE_DECISIONS_METRIC);
  assert.ok(metric, "counter registered on the injected registry");
  const out = new Map<string, number>();
  for (const v of (await metric.get()).values) out.set(`${v.labels.gate}/${v.labels.outcome}/${v.labels.reason}`, v.value);
  return out;
}

describe("GateChain runner", () => {
  it("killswitch beats rate: the first deny wins and later gates are not consumed", async () => {
    const { svc } = await openService({ GATECHAIN_RATE_PER_S: "2" });
    svc.admit(post);
    svc.admit(post);
    expectAppError(() => svc.admit(post), "ERR_RATE_LIMITED");
    await svc.setKillswitch("t1", "*", true);
    const err = expectAppError(() => svc.admit(post), "ERR_GATE_BLOCKED");
    assert.deepEqual(err.details, { gate: "killswitch", reason: "killswitch_on" });
    assert.equal(err.status, 403);
    await svc.close();
  });

  it("killswitches: global, global per action, tenant, tenant per action; off again", async () => {
    const { svc } = await openService();
    await svc.setKillswitch("*", "canvas.event", true);
    expectAppError(() => svc.admit({ tenantId: "t9", action: "canvas.event" }), "ERR_GATE_BLOCKED");
    svc.admit({ tenantId: "t9", action: "message.post" });
    await svc.setKillswitch("t1", "media.create", true);
    expectAppError(() => svc.admit({ tenantId: "t1", action: "media.create" }), "ERR_GATE_BLOCKED");
    svc.admit({ tenantId: "t2", action: "media.create" });
    await svc.setKillswitch("*", "*", true);
    expectAppError(() => svc.admit({ tenantId: "t2", action: "dataset.event" }), "ERR_GATE_BLOCKED");
    await svc.setKillswitch("*", "*", false);
    await svc.setKillswitch("*", "canvas.event", false);
    svc.admit({ tenantId: "t9", action: "canvas.event" });
    assert.deepEqual(svc.killswitches(), [{ tenantId: "t1", action: "media.create" }]);
    await expectAppErrorAsync(svc.setKillswitch("t1", "bogus.action", true), "ERR_INVALID_REQUEST");
    await expectAppErrorAsync(svc.setKillswitch("no way", "*", true), "ERR_INVALID_REQUEST");
    await svc.close();
  });

  it("counts decisions in switchyard_gate_decisions_total{gate,outcome,reason} on the injected registry", async () => {
    const { svc, registry } = await openService({ APP_ENV: "prod", GATECHAIN_RATE_PER_S: "5" });
    svc.decide(post); // budget_not_configured
    await svc.putBudget("t1", { limit: 2, windowSeconds: 60 });
    svc.decide(post); // kpi_not_configured
    await svc.putKpis("t1", { kpis: [] });
    svc.admit(post);
    svc.admit(post);
    svc.decide(post); // budget_exhausted
    svc.decide(post); // budget_exhausted again; 6 decisions at 5/s, but refused ones take no rate token, so rate never denies
    const m = await metricValues(registry);
    assert.equal(m.get("budget/deny/budget_not_configured"), 1);
    assert.equal(m.get("kpi/deny/kpi_not_configured"), 1);
    assert.equal(m.get("chain/allow/pass"), 2);
    assert.equal(m.get("budget/deny/budget_exhausted"), 2);
    assert.equal(m.get("rate/deny/rate_limited"), undefined);
    const text = await registry.metrics();
    assert.match(text, /switchyard_gate_decisions_total\{gate="budget",outcome="deny",reason="budget_exhausted"\} 2/);
    await svc.close();
  });

  it("keeps the last N decisions per tenant, newest first", async () => {
    const { svc, clock } = await openService({}, { lastDecisions: 3 });
    await svc.setKillswitch("t1", "ws.publish", true);
    for (let i = 0; i < 5; i++) {
      clock.now += 1000;
      svc.decide(post);
    }
    clock.now += 1000;
    svc.decide({ tenantId: "t1", action: "ws.publish" });
    const last = svc.status("t1").lastDecisions;
    assert.equal(last.length, 3);
    assert.deepEqual(last[0], { at: new Date(clock.now).toISOString(), action: "ws.publish", allow: false, gate: "killswitch", reason: "killswitch_on" });
    assert.deepEqual(last.slice(1).map((d) => [d.action, d.allow, d.at]), [
      ["message.post", true, new Date(clock.now - 1000).toISOString()],
      ["message.post", true, new Date(clock.now - 2000).toISOString()],
    ]);
    assert.deepEqual(svc.status("t2").lastDecisions, []);
    await svc.close();
  });

  it("refuses gates out of SPEC order and shares one counter per registry", () => {
    const snap = new GateSnapshot();
    const registry = new Registry();
    const rate = new RateGate({ ratePerS: 10 });
    const kill = new KillswitchGate(snap);
    assert.throws(() => new GateChain({ gates: [rate, kill], registry }), (e: unknown) => e instanceof AppError && /out of order/.test(e.message));
    assert.throws(() => new GateChain({ gates: [kill, kill], registry }), AppError);
    const a = new GateChain({ gates: [kill, rate, new BudgetGate(snap, true)], registry });
    const b = new GateChain({ gates: [kill], registry });
    a.decide({ ...post, now: 0 });
    b.decide({ ...post, now: 0 });
    assert.equal(registry.getMetricsAsArray().length, 1);
  });
});

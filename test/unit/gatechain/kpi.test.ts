import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { expectAppError, expectAppErrorAsync, openService } from "./helpers.js";

const post = { tenantId: "t1", action: "message.post" } as const;

describe("kpi gate", () => {
  it("a KPI with no observation passes; outside bounds blocks until a later observation is back inside", async () => {
    const { svc, clock } = await openService({ APP_ENV: "prod" });
    await svc.putBudget("t1", { limit: 100, windowSeconds: 60 });
    await svc.putKpis("t1", { kpis: [{ name: "p99.latency_ms", min: 0, max: 250 }, { name: "conversion", min: 0.02 }] });
    svc.admit(post); // nothing observed yet

    await svc.observe("t1", { name: "p99.latency_ms", value: 400 });
    const err = expectAppError(() => svc.admit(post), "ERR_GATE_BLOCKED");
    assert.equal(err.status, 403);
    assert.deepEqual(err.details, { gate: "kpi", reason: "kpi_out_of_bounds", kpi: "p99.latency_ms" });
    clock.now += 3_600_000; // time alone does not unblock
    expectAppError(() => svc.admit(post), "ERR_GATE_BLOCKED");

    await svc.observe("t1", { name: "p99.latency_ms", value: 250 }); // bounds are inclusive
    svc.admit(post);

    await svc.observe("t1", { name: "conversion", value: 0.01 });
    const err2 = expectAppError(() => svc.admit(post), "ERR_GATE_BLOCKED");
    assert.deepEqual(err2.details, { gate: "kpi", reason: "kpi_out_of_bounds", kpi: "conversion" });
    await svc.observe("t1", { name: "conversion", value: 1e9 }); // no max: only min applies
    svc.admit(post);

    const st = svc.status("t1");
    assert.deepEqual(
      st.kpis.map((k) => [k.name, k.min, k.max, k.value, k.ok]),
      [
        ["p99.latency_ms", 0, 250, 250, true],
        ["conversion", 0.02, null, 1e9, true],
      ],
    );
    assert.equal(st.kpis[0]!.observedAt, new Date(clock.now).toISOString());
    await svc.close();
  });

  it("status marks an out-of-bounds KPI not ok; other tenants are unaffected", async () => {
    const { svc } = await openService({ APP_ENV: "dev" });
    await svc.putKpis("t1", { kpis: [{ name: "errors", max: 5 }] });
    await svc.putKpis("t2", { kpis: [{ name: "errors", max: 5 }] });
    const k = await svc.observe("t1", { name: "errors", value: 6 });
    assert.equal(k.ok, false);
    assert.equal(svc.status("t1").kpis[0]!.ok, false);
    svc.admit({ tenantId: "t2", action: "message.post" });
    expectAppError(() => svc.admit(post), "ERR_GATE_BLOCKED");
    await svc.close();
  });

  it("replacing the KPI set drops observations of removed KPIs (re-adding starts clean)", async () => {
    const { svc } = await openService({ APP_ENV: "dev" });
    await svc.putKpis("t1", { kpis: [{ name: "a", max: 1 }, { name: "b", max: 1 }] });
    await svc.observe("t1", { name: "b", value: 5 });
    expectAppError(() => svc.admit(post), "ERR_GATE_BLOCKED");
    await svc.putKpis("t1", { kpis: [{ name: "a", max: 1 }] });
    svc.admit(post);
    await svc.putKpis("t1", { kpis: [{ name: "a", max: 1 }, { name: "b", max: 1 }] });
    svc.admit(post);
    assert.equal(svc.status("t1").kpis[1]!.value, null);
    await svc.close();
  });

  it("observing an unknown KPI → ERR_NOT_FOUND; bad bodies → ERR_INVALID_REQUEST", async () => {
    const { svc } = await openService();
    await expectAppErrorAsync(svc.observe("t1", { name: "x", value: 1 }), "ERR_NOT_FOUND");
    await svc.putKpis("t1", { kpis: [{ name: "x", min: 0, max: 1 }] });
    await expectAppErrorAsync(svc.observe("t1", { name: "y", value: 1 }), "ERR_NOT_FOUND");
    await expectAppErrorAsync(svc.observe("t1", { name: "x", value: "1" }), "ERR_INVALID_REQUEST");
    await expectAppErrorAsync(svc.observe("t1", { name: "x", value: Number.NaN }), "ERR_INVALID_REQUEST");
    await expectAppErrorAsync(svc.observe("t1", { name: "x", value: Number.POSITIVE_INFINITY }), "ERR_INVALID_REQUEST");
    const bad = [
      { kpis: [{ name: "x", min: 2, max: 1 }] },
      { kpis: [{ name: "Upper", max: 1 }] },
      { kpis: [{ name: "a".repeat(65) }] },
      { kpis: [{ name: "x" }, { name: "x" }] },
      { kpis: Array.from({ length: 65 }, (_, i) => ({ name: `k${i}` })) },
      { kpis: [{ name: "x", mni: 1 }] },
      {},
    ];
    for (const body of bad) await expectAppErrorAsync(svc.putKpis("t1", body), "ERR_INVALID_REQUEST");
    // Nothing of the refused bodies was applied.
    assert.deepEqual(svc.status("t1").kpis.map((k) => k.name), ["x"]);
    const ok = await svc.putKpis("t1", { kpis: Array.from({ length: 64 }, (_, i) => ({ name: `k${i}`, min: i, max: i })) });
    assert.equal(ok.kpis.length, 64);
    await svc.close();
  });
});

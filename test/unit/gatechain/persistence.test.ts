import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { SqliteGateConfigStore } from "../../../src/gatechain/store-sqlite.js";
import { expectAppError, expectAppErrorAsync, openService, T0 } from "./helpers.js";

const post = { tenantId: "t1", action: "message.post" } as const;

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), "sy-gatesvc-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe("GateChainService on the SQLite store", () => {
  it("budget, usage, KPIs, observations and killswitches survive a restart", async (t) => {
    const dir = tempDir(t);
    const first = await openService({ APP_ENV: "prod" }, { store: new SqliteGateConfigStore(dir) });
    t.after(() => first.svc.close());
    await first.svc.putBudget("t1", { limit: 5, windowSeconds: 3600 });
    await first.svc.putKpis("t1", { kpis: [{ name: "errors", max: 3 }] });
    await first.svc.putBudget("t2", { limit: 5, windowSeconds: 3600 });
    await first.svc.putKpis("t2", { kpis: [{ name: "errors", max: 3 }] });
    await first.svc.setKillswitch("t3", "*", true);
    for (let i = 0; i < 3; i++) first.svc.admit(post);
    await first.svc.observe("t2", { name: "errors", value: 9 });
    await first.svc.close(); // flushes the budget counters

    const second = await openService({ APP_ENV: "prod" }, { store: new SqliteGateConfigStore(dir) });
    t.after(() => second.svc.close());
    second.clock.now = T0 + 60_000; // same hour window
    assert.deepEqual(second.svc.status("t1").budget, {
      limit: 5,
      windowSeconds: 3600,
      used: 3,
      remaining: 2,
      windowEndsAt: new Date(T0 + 3_600_000).toISOString(),
    });
    second.svc.admit(post);
    second.svc.admit(post);
    expectAppError(() => second.svc.admit(post), "ERR_GATE_BLOCKED");
    const kpiErr = expectAppError(() => second.svc.admit({ tenantId: "t2", action: "message.post" }), "ERR_GATE_BLOCKED");
    assert.deepEqual(kpiErr.details, { gate: "kpi", reason: "kpi_out_of_bounds", kpi: "errors" });
    const ksErr = expectAppError(() => second.svc.admit({ tenantId: "t3", action: "media.create" }), "ERR_GATE_BLOCKED");
    assert.deepEqual(ksErr.details, { gate: "killswitch", reason: "killswitch_on" });
    assert.equal(second.svc.status("t2").kpis[0]?.value, 9);

    second.clock.now = T0 + 3_600_000; // the next window starts from zero after a restart too
    await second.svc.close();
    const third = await openService({ APP_ENV: "prod" }, { store: new SqliteGateConfigStore(dir) });
    t.after(() => third.svc.close());
    third.clock.now = T0 + 3_600_000;
    assert.equal(third.svc.status("t1").budget?.used, 0);
    await third.svc.close();
  });

  it("budget counters are written behind on a timer, not only at close", async (t) => {
    const dir = tempDir(t);
    const store = new SqliteGateConfigStore(dir);
    const { svc } = await openService({}, { store, usageFlushMs: 20 });
    t.after(() => svc.close());
    await svc.putBudget("t1", { limit: 10, windowSeconds: 3600 });
    svc.admit(post);
    svc.admit(post);
    const deadline = Date.now() + 5000;
    let used: number | undefined;
    while (Date.now() < deadline) {
      used = (await store.load()).usage.find((u) => u.tenantId === "t1")?.used;
      if (used === 2) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(used, 2);
  });

  it("after close, admin writes fail with ERR_DRAINING", async () => {
    const { svc } = await openService();
    await svc.close();
    await expectAppErrorAsync(svc.putBudget("t1", { limit: 1, windowSeconds: 1 }), "ERR_DRAINING");
  });
});

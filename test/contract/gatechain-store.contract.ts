import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import type { GateConfigStore, GateStoreContents } from "../../src/gatechain/store.js";

export interface GateStoreFixture {
  store: GateConfigStore;
  /** Closes and opens the same backing data again (durable implementations only). */
  reopen?: () => Promise<GateConfigStore>;
  cleanup?: () => Promise<void>;
}

const byTenant = <T extends { tenantId: string }>(items: readonly T[], t: string): T[] => items.filter((i) => i.tenantId === t);

export function describeGateConfigStoreContract(label: string, make: () => Promise<GateStoreFixture>): void {
  describe(`GateConfigStore contract: ${label}`, () => {
    let fx: GateStoreFixture;
    let store: GateConfigStore;
    const run = randomBytes(4).toString("hex");
    const a = `a${run}`;
    const b = `b${run}`;

    before(async () => {
      fx = await make();
      store = fx.store;
    });
    after(async () => {
      await store.close();
      await fx.cleanup?.();
    });

    it("a tenant never configured has nothing", async () => {
      const c = await store.load();
      const lists: ReadonlyArray<readonly { tenantId: string }[]> = [c.budgets, c.kpis, c.observations, c.killswitches, c.usage];
      for (const list of lists) assert.deepEqual(byTenant(list, a), []);
    });

    it("budgets upsert per tenant", async () => {
      await store.putBudget(a, { limit: 5, windowSeconds: 60, updatedAt: "2030-01-01T00:00:00.000Z" });
      await store.putBudget(b, { limit: 7, windowSeconds: 86400, updatedAt: "2030-01-01T00:00:00.000Z" });
      await store.putBudget(a, { limit: 0, windowSeconds: 31_536_000, updatedAt: "2030-01-02T00:00:00.000Z" });
      const c = await store.load();
      assert.deepEqual(byTenant(c.budgets, a), [{ tenantId: a, limit: 0, windowSeconds: 31_536_000, updatedAt: "2030-01-02T00:00:00.000Z" }]);
      assert.deepEqual(byTenant(c.budgets, b), [{ tenantId: b, limit: 7, windowSeconds: 86400, updatedAt: "2030-01-01T00:00:00.000Z" }]);
    });

    it("KPI sets replace as a whole, keep order and null bounds; an empty set is still configured", async () => {
      await store.putKpis(a, [{ name: "z", min: null, max: 1.5 }, { name: "a", min: -2, max: null }]);
      await store.putKpis(b, []);
      let c = await store.load();
      assert.deepEqual(byTenant(c.kpis, a), [{ tenantId: a, kpis: [{ name: "z", min: null, max: 1.5 }, { name: "a", min: -2, max: null }] }]);
      assert.deepEqual(byTenant(c.kpis, b), [{ tenantId: b, kpis: [] }]);
      await store.putKpis(a, [{ name: "a", min: 0, max: 0 }]);
      c = await store.load();
      assert.deepEqual(byTenant(c.kpis, a)[0]?.kpis, [{ name: "a", min: 0, max: 0 }]);
    });

    it("keeps the latest observation per KPI; dropping a KPI drops its observation", async () => {
      await store.putKpis(a, [{ name: "x", min: 0, max: 1 }, { name: "y", min: null, max: null }]);
      await store.putObservation(a, { name: "x", value: 5, observedAt: "2030-01-01T00:00:00.000Z" });
      await store.putObservation(a, { name: "x", value: 0.25, observedAt: "2030-01-01T00:00:01.000Z" });
      await store.putObservation(a, { name: "y", value: -1e-9, observedAt: "2030-01-01T00:00:02.000Z" });
      let obs = byTenant((await store.load()).observations, a).sort((p, q) => p.name.localeCompare(q.name));
      assert.deepEqual(obs, [
        { tenantId: a, name: "x", value: 0.25, observedAt: "2030-01-01T00:00:01.000Z" },
        { tenantId: a, name: "y", value: -1e-9, observedAt: "2030-01-01T00:00:02.000Z" },
      ]);
      await store.putKpis(a, [{ name: "x", min: 0, max: 1 }]);
      obs = byTenant((await store.load()).observations, a);
      assert.deepEqual(obs.map((o) => o.name), ["x"]);
    });

    it("killswitches switch on idempotently and off again", async () => {
      await store.setKillswitch({ tenantId: a, action: "message.post" }, true);
      await store.setKillswitch({ tenantId: a, action: "message.post" }, true);
      await store.setKillswitch({ tenantId: a, action: "*" }, true);
      await store.setKillswitch({ tenantId: b, action: "ws.publish" }, false); // off when never on: no-op
      let ks = byTenant((await store.load()).killswitches, a).map((k) => k.action).sort();
      assert.deepEqual(ks, ["*", "message.post"]);
      await store.setKillswitch({ tenantId: a, action: "*" }, false);
      ks = byTenant((await store.load()).killswitches, a).map((k) => k.action);
      assert.deepEqual(ks, ["message.post"]);
      assert.deepEqual(byTenant((await store.load()).killswitches, b), []);
    });

    it("usage counters upsert per tenant", async () => {
      await store.saveUsage([]);
      await store.saveUsage([{ tenantId: a, windowStart: 1000, used: 3 }, { tenantId: b, windowStart: 0, used: 1 }]);
      await store.saveUsage([{ tenantId: a, windowStart: 61_000, used: 1 }]);
      const u = (await store.load()).usage;
      assert.deepEqual(byTenant(u, a), [{ tenantId: a, windowStart: 61_000, used: 1 }]);
      assert.deepEqual(byTenant(u, b), [{ tenantId: b, windowStart: 0, used: 1 }]);
    });

    it("load returns copies: mutating them changes nothing stored", async () => {
      const c = (await store.load()) as { budgets: Array<{ tenantId: string; limit: number }> } & GateStoreContents;
      const mine = c.budgets.find((x) => x.tenantId === b);
      assert.ok(mine);
      mine.limit = 999;
      assert.equal(byTenant((await store.load()).budgets, b)[0]?.limit, 7);
    });

    it("everything survives a reopen (durable implementations)", async (t) => {
      if (!fx.reopen) return t.skip("not durable");
      const before = await store.load();
      store = await fx.reopen();
      const after = await store.load();
      const norm = (c: GateStoreContents) => ({
        budgets: [...c.budgets].sort((p, q) => p.tenantId.localeCompare(q.tenantId)),
        kpis: [...c.kpis].sort((p, q) => p.tenantId.localeCompare(q.tenantId)),
        observations: [...c.observations].sort((p, q) => (p.tenantId + p.name).localeCompare(q.tenantId + q.name)),
        killswitches: [...c.killswitches].sort((p, q) => (p.tenantId + p.action).localeCompare(q.tenantId + q.action)),
        usage: [...c.usage].sort((p, q) => p.tenantId.localeCompare(q.tenantId)),
      });
      assert.deepEqual(norm(after), norm(before));
      assert.equal(byTenant(after.budgets, a)[0]?.limit, 0);
      assert.deepEqual(byTenant(after.kpis, b), [{ tenantId: b, kpis: [] }]);
    });
  });
}

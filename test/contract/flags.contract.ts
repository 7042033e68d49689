import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { AppError } from "../../src/errors/index.js";
import { DEFAULT_FLAGS, DEFAULTS_UPDATED_AT, type FlagChange, type FlagStore } from "../../src/adapters/flags/index.js";

export interface FlagStoreFixture {
  /** A store on the fixture's backend; every call shares the same data (one per simulated node). */
  open(now: () => Date): Promise<FlagStore>;
  cleanup?: () => Promise<void>;
}

/** Bounded polling instead of sleeps. */
async function eventually(cond: () => Promise<boolean>, ms = 10_000, what = "condition"): Promise<void> {
  const until = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const isInvalid = (e: unknown) => e instanceof AppError && e.key === "ERR_INVALID_REQUEST";

export function describeFlagStoreContract(label: string, make: () => Promise<FlagStoreFixture>): void {
  describe(`FlagStore contract: ${label}`, () => {
    let fx: FlagStoreFixture;
    let store: FlagStore;
    let t = new Date("2026-03-01T10:00:00.000Z");
    const clock = () => t;
    const opened: FlagStore[] = [];
    // Fresh tenant ids per run: suites sharing a backend never see each other's overrides.
    const tenant = (n: string) => `${n}-${randomBytes(4).toString("hex")}`;
    const open = async () => {
      const s = await fx.open(clock);
      opened.push(s);
      return s;
    };

    before(async () => {
      fx = await make();
      store = await open();
    });
    after(async () => {
      for (const s of opened) await s.close().catch(() => undefined);
      await fx.cleanup?.();
    });

    it("a fresh tenant sees exactly the coded defaults, as global flags, sorted by key", async () => {
      const items = await store.listEffective(tenant("fresh"));
      assert.deepEqual(items.map((f) => f.key), Object.keys(DEFAULT_FLAGS).sort());
      for (const f of items) {
        const d = DEFAULT_FLAGS[f.key]!;
        assert.deepEqual(f, { key: f.key, enabled: d.enabled, rollout: d.rollout, description: d.description, scope: "global", updatedAt: DEFAULTS_UPDATED_AT });
      }
      assert.equal(await store.get(tenant("fresh"), "no.such-flag"), undefined);
      assert.equal(await store.get(tenant("fresh"), "constructor"), undefined, "prototype names are not defaults");
    });

    it("putOverride creates, then replaces; created is exact; rollout defaults to 100; description inherits", async () => {
      const a = tenant("a");
      t = new Date("2026-03-01T11:00:00.000Z");
      const first = await store.putOverride(a, "ws.compression", { enabled: true, rollout: 25 });
      assert.equal(first.created, true);
      assert.deepEqual(first.flag, {
        key: "ws.compression", enabled: true, rollout: 25, description: DEFAULT_FLAGS["ws.compression"]!.description,
        scope: "tenant", updatedAt: "2026-03-01T11:00:00.000Z",
      });
      t = new Date("2026-03-01T12:00:00.000Z");
      const second = await store.putOverride(a, "ws.compression", { enabled: false, description: "mine" });
      assert.equal(second.created, false);
      assert.deepEqual(await store.get(a, "ws.compression"), {
        key: "ws.compression", enabled: false, rollout: 100, description: "mine", scope: "tenant", updatedAt: "2026-03-01T12:00:00.000Z",
      });
      const listed = await store.listEffective(a);
      assert.deepEqual(listed.find((f) => f.key === "ws.compression"), second.flag);
    });

    it("a tenant-only flag exists for its tenant and for no other", async () => {
      const a = tenant("a");
      const b = tenant("b");
      await store.putOverride(a, "beta.search", { enabled: true, description: "only a" });
      assert.equal((await store.get(a, "beta.search"))?.scope, "tenant");
      assert.equal(await store.get(b, "beta.search"), undefined);
      assert.ok(!(await store.listEffective(b)).some((f) => f.key === "beta.search"));
      assert.equal(await store.deleteOverride(b, "beta.search"), false, "b cannot delete a's override");
      assert.equal((await store.get(a, "beta.search"))?.enabled, true);
    });

    it("deleteOverride answers true once, then false, and the global value shows again", async () => {
      const a = tenant("a");
      await store.putOverride(a, "chat.enabled", { enabled: false });
      assert.equal((await store.get(a, "chat.enabled"))?.enabled, false);
      assert.equal(await store.deleteOverride(a, "chat.enabled"), true);
      assert.equal(await store.deleteOverride(a, "chat.enabled"), false);
      assert.deepEqual(await store.get(a, "chat.enabled"), { key: "chat.enabled", ...DEFAULT_FLAGS["chat.enabled"]!, scope: "global", updatedAt: DEFAULTS_UPDATED_AT });
      const again = await store.putOverride(a, "chat.enabled", { enabled: false });
      assert.equal(again.created, true, "re-creating after a delete counts as created");
    });

    it("stored globals layer over the coded defaults and under tenant overrides", async () => {
      const a = tenant("a");
      const b = tenant("b");
      const key = `g.${randomBytes(3).toString("hex")}`;
      t = new Date("2026-03-02T00:00:00.000Z");
      assert.equal((await store.putGlobal(key, { enabled: true, rollout: 50, description: "everyone" })).created, true);
      await store.putOverride(a, key, { enabled: false });
      assert.deepEqual(await store.get(b, key), { key, enabled: true, rollout: 50, description: "everyone", scope: "global", updatedAt: "2026-03-02T00:00:00.000Z" });
      assert.deepEqual(await store.get(a, key), { key, enabled: false, rollout: 100, description: "everyone", scope: "tenant", updatedAt: "2026-03-02T00:00:00.000Z" });
      assert.equal(await store.deleteGlobal(key), true);
      assert.equal(await store.get(b, key), undefined);
      assert.equal((await store.get(a, key))?.scope, "tenant");
    });

    it("keys and tenant ids that are awkward for storage paths round-trip", async () => {
      const weird = tenant("__x__");
      const keys = [".", "..", "a..b", "-x_", "constructor", "__proto__", "a".repeat(128)];
      for (const k of keys) await store.putOverride(weird, k, { enabled: true, description: k });
      const listed = await store.listEffective(weird);
      for (const k of keys) assert.equal(listed.find((f) => f.key === k)?.description, k, `key ${k}`);
      for (const k of keys) assert.equal((await store.get(weird, k))?.description, k);
      for (const k of keys) assert.equal(await store.deleteOverride(weird, k), true);
    });

    it("refuses invalid keys and rollouts with invalid_request and stores nothing", async () => {
      const a = tenant("a");
      for (const k of ["", "UPPER", "sp ace", "a/b", "a".repeat(129), "é"]) {
        await assert.rejects(store.putOverride(a, k, { enabled: true }), isInvalid, `key ${JSON.stringify(k)}`);
        await assert.rejects(store.get(a, k), isInvalid);
      }
      for (const rollout of [-1, 101, 2.5]) await assert.rejects(store.putOverride(a, "r.k", { enabled: true, rollout }), isInvalid);
      assert.equal(await store.get(a, "r.k"), undefined);
    });

    it("another store on the same backend sees writes (a cluster shares flags), and watch reports them", async () => {
      const other = await open();
      const a = tenant("a");
      const seen: FlagChange[] = [];
      const unwatch = other.watch?.((c) => seen.push(c));
      await store.putOverride(a, "canvas.enabled", { enabled: false });
      await eventually(async () => (await other.get(a, "canvas.enabled"))?.enabled === false, 10_000, "override visible on the other store");
      if (unwatch) await eventually(async () => seen.some((c) => c.tenantId === a && c.key === "canvas.enabled"), 10_000, "watch event");
      await store.deleteOverride(a, "canvas.enabled");
      await eventually(async () => (await other.get(a, "canvas.enabled"))?.scope === "global", 10_000, "delete visible on the other store");
      unwatch?.();
    });

    it("two stores creating the same override at once: exactly one reports created", async () => {
      const other = await open();
      const a = tenant("race");
      const results = await Promise.all([
        store.putOverride(a, "race.flag", { enabled: true }),
        other.putOverride(a, "race.flag", { enabled: false }),
      ]);
      assert.equal(results.filter((r) => r.created).length, 1);
    });

    it("reports healthy", async () => {
      const h = await store.health();
      assert.equal(h.ok, true);
      assert.equal(h.backend, store.backend);
    });
  });
}

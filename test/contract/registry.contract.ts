import assert from "node:assert/strict";
import { describe, it, before, after } from "node:test";
import { randomBytes } from "node:crypto";
import type { Registry } from "../../src/registry/registry.js";

export function describeRegistryContract(
  label: string,
  make: () => Promise<{ registry: Registry; reopen?: () => Promise<Registry>; cleanup?: () => Promise<void> }>,
): void {
  describe(`Registry contract: ${label}`, () => {
    let registry: Registry;
    let reopen: (() => Promise<Registry>) | undefined;
    let cleanup: (() => Promise<void>) | undefined;
    const run = randomBytes(4).toString("hex");
    const a = `a${run}`;
    const b = `b${run}`;

    before(async () => {
      ({ registry, reopen, cleanup } = await make());
    });
    after(async () => {
      await registry.close();
      await cleanup?.();
    });

    it("registers once; a second register returns the first record", async () => {
      const first = await registry.register({ tenant: a, kind: "thread", id: "t1" }, { createdBy: "alice", title: "hi", metadata: { x: 1 } });
      assert.equal(first.created, true);
      assert.equal(first.record.title, "hi");
      assert.deepEqual(first.record.metadata, { x: 1 });
      const second = await registry.register({ tenant: a, kind: "thread", id: "t1" }, { createdBy: "bob", title: "other" });
      assert.equal(second.created, false);
      assert.equal(second.record.createdBy, "alice");
      assert.equal(second.record.title, "hi");
    });

    it("racing first registrations agree on one winner", async () => {
      const results = await Promise.all(
        ["u1", "u2", "u3", "u4"].map((u) => registry.register({ tenant: a, kind: "canvas", id: "race" }, { createdBy: u })),
      );
      assert.equal(results.filter((r) => r.created).length, 1);
      assert.equal(new Set(results.map((r) => r.record.createdBy)).size, 1);
    });

    it("namespaces by tenant and kind", async () => {
      await registry.register({ tenant: a, kind: "canvas", id: "board-1" }, { createdBy: "alice" });
      assert.equal(await registry.get({ tenant: b, kind: "canvas", id: "board-1" }), undefined);
      assert.equal(await registry.get({ tenant: a, kind: "thread", id: "board-1" }), undefined);
      const mine = await registry.register({ tenant: b, kind: "canvas", id: "board-1" }, { createdBy: "bob" });
      assert.equal(mine.created, true, "another tenant's id is not squatted");
    });

    it("lists one tenant's resources of one kind with a cursor", async () => {
      for (const id of ["l3", "l1", "l2", "l4", "l5"]) await registry.register({ tenant: b, kind: "thread", id }, { createdBy: "bob" });
      await registry.register({ tenant: a, kind: "thread", id: "l0" }, { createdBy: "alice" });
      const p1 = await registry.list(b, "thread", { limit: 2 });
      assert.deepEqual(p1.items.map((r) => r.id), ["l1", "l2"]);
      assert.ok(p1.nextCursor);
      const p2 = await registry.list(b, "thread", { limit: 2, cursor: p1.nextCursor ?? undefined });
      assert.deepEqual(p2.items.map((r) => r.id), ["l3", "l4"]);
      const p3 = await registry.list(b, "thread", { limit: 2, cursor: p2.nextCursor ?? undefined });
      assert.deepEqual(p3.items.map((r) => r.id), ["l5"]);
      assert.equal(p3.nextCursor, null);
    });

    it("survives a reopen", async (t) => {
      if (!reopen) return t.skip("not durable");
      await registry.register({ tenant: a, kind: "thread", id: "keep" }, { createdBy: "alice", title: "kept" });
      registry = await reopen();
      assert.equal((await registry.get({ tenant: a, kind: "thread", id: "keep" }))?.title, "kept");
    });
  });
}

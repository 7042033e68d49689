import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ownerOf, rankOf } from "../../../src/cluster/placement.js";

const keys = Array.from({ length: 20_000 }, (_, i) => `tenant${i % 37}/thread/t${i}`);
const five = ["n-a", "n-b", "n-c", "n-d", "n-e"];

describe("rendezvous placement", () => {
  it("is deterministic and ignores member order and duplicates", () => {
    for (const k of keys.slice(0, 500)) {
      const o = ownerOf(k, five);
      assert.equal(ownerOf(k, [...five].reverse()), o);
      assert.equal(ownerOf(k, [...five, ...five]), o);
      assert.deepEqual(rankOf(k, [...five].reverse()), rankOf(k, five));
      assert.equal(rankOf(k, five)[0], o);
    }
    assert.equal(ownerOf("x", []), undefined);
    assert.deepEqual(rankOf("x", []), []);
  });

  it("spreads resources evenly", () => {
    const count = new Map<string, number>();
    for (const k of keys) {
      const o = ownerOf(k, five) ?? "";
      count.set(o, (count.get(o) ?? 0) + 1);
    }
    const mean = keys.length / five.length;
    for (const m of five) assert.ok(Math.abs((count.get(m) ?? 0) - mean) < mean * 0.08, `${m}: ${count.get(m)} vs ${mean}`);
  });

  it("moves only the leaving member's resources, each to its runner-up", () => {
    const before = new Map(keys.map((k) => [k, ownerOf(k, five)]));
    const rest = five.filter((m) => m !== "n-c");
    let moved = 0;
    for (const k of keys) {
      const now = ownerOf(k, rest);
      if (before.get(k) === "n-c") {
        moved++;
        assert.equal(now, rankOf(k, five)[1], "the next in hash order takes over");
      } else {
        assert.equal(now, before.get(k), "nobody else's resources move");
      }
    }
    assert.ok(moved > keys.length * 0.15 && moved < keys.length * 0.25, `moved ${moved}`);
  });

  it("a joining member takes about 1/n, only for itself", () => {
    const six = [...five, "n-f"];
    let taken = 0;
    for (const k of keys) {
      const a = ownerOf(k, five);
      const b = ownerOf(k, six);
      if (a !== b) {
        assert.equal(b, "n-f");
        taken++;
      }
    }
    assert.ok(Math.abs(taken - keys.length / 6) < (keys.length / 6) * 0.1, `taken ${taken}`);
  });

  it("keeps similar ids apart (no prefix/concatenation collisions)", () => {
    assert.notDeepEqual(rankOf("bc", ["a", "ab"]), undefined);
    const a = keys.map((k) => ownerOf(k, ["n1", "n11"]));
    assert.ok(a.filter((o) => o === "n1").length > keys.length * 0.4);
  });
});

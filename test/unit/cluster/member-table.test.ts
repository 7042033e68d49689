import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MemberTable } from "../../../src/cluster/member-table.js";

describe("MemberTable (heartbeat liveness)", () => {
  it("a member is live until its last heartbeat is older than the TTL", () => {
    let now = 10_000;
    const t = new MemberTable(3_000, () => now);
    t.observe("a");
    t.observe("b");
    assert.deepEqual(t.live(), ["a", "b"]);
    now += 2_000;
    t.observe("a");
    now += 1_001;
    assert.deepEqual(t.live(), ["a"], "b's heartbeat is 3001 ms old");
    now += 1_999;
    assert.deepEqual(t.live(), ["a"], "a's heartbeat is exactly 3000 ms old");
    now += 1;
    assert.deepEqual(t.live(), []);
  });

  it("reports changes once, and graceful leaves at once", () => {
    let now = 0;
    const t = new MemberTable(1_000, () => now);
    t.observe("a");
    t.observe("b");
    assert.deepEqual(t.changed(), ["a", "b"]);
    assert.equal(t.changed(), undefined);
    t.remove("b");
    assert.deepEqual(t.changed(), ["a"]);
    now = 1_001;
    assert.deepEqual(t.changed(), []);
  });

  it("an older or future observation does not extend life", () => {
    let now = 5_000;
    const t = new MemberTable(1_000, () => now);
    t.observe("a", 4_500);
    t.observe("a", 1_000);
    t.observe("b", 60_000); // a server clock ahead of ours: capped at now
    now = 6_001;
    assert.deepEqual(t.live(), []);
    assert.deepEqual(t.ages(), { a: 1_501, b: 1_001 });
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EVENT_ID_PATTERN, newEventId } from "../../../../src/adapters/datasets/index.js";

// Every backend orders and pages by eventId alone, so ids must be unique and sort in the order they were made.
describe("newEventId", () => {
  it("is fixed-width, unique and ascending within one millisecond, across many refills of its random pool", () => {
    const now = new Date("2026-11-28T10:00:00.000Z");
    const ids = Array.from({ length: 3000 }, () => newEventId(now));
    for (const id of ids) {
      assert.match(id, /^ev_[0-9a-z]{14}[A-Za-z0-9_-]{8}$/);
      assert.match(id, EVENT_ID_PATTERN);
    }
    assert.equal(new Set(ids).size, ids.length, "no id repeats");
    assert.deepEqual([...ids].sort(), ids, "string order is creation order");
    // The random suffixes come from the pool, not one repeated value.
    assert.ok(new Set(ids.map((id) => id.slice(-8))).size > 2990, "random suffixes vary");
  });

  it("keeps ascending when the clock goes backwards", () => {
    const a = newEventId(new Date("2026-11-28T10:00:01.000Z"));
    const b = newEventId(new Date("2026-11-28T09:00:00.000Z"));
    assert.ok(b > a, `${b} sorts after ${a}`);
  });
});

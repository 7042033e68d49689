import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RateGate } from "../../../src/gatechain/rate.js";
import { expectAppError, openService, T0 } from "./helpers.js";

const post = { tenantId: "t1", action: "message.post" } as const;

describe("rate gate", () => {
  it("over GATECHAIN_RATE_PER_S → 429 rate_limited with Retry-After; tokens refill with time", async () => {
    const { svc, clock } = await openService({ GATECHAIN_RATE_PER_S: "3" });
    for (let i = 0; i < 3; i++) svc.admit(post);
    const err = expectAppError(() => svc.admit(post), "ERR_RATE_LIMITED");
    assert.equal(err.status, 429);
    assert.equal(err.code, "rate_limited");
    assert.equal(err.retryAfterS, 1);
    assert.deepEqual(err.details, { gate: "rate", reason: "rate_limited" });
    // Another tenant has its own bucket.
    svc.admit({ tenantId: "t2", action: "message.post" });

    clock.now = T0 + 400; // 1.2 tokens back
    svc.admit(post);
    expectAppError(() => svc.admit(post), "ERR_RATE_LIMITED");
    clock.now = T0 + 10_000; // refills only up to one second's worth
    for (let i = 0; i < 3; i++) svc.admit(post);
    expectAppError(() => svc.admit(post), "ERR_RATE_LIMITED");
    await svc.close();
  });

  it("retryAfterS is how long until one token is back, rounded up, at least 1", () => {
    const gate = new RateGate({ ratePerS: 1, burst: 1 });
    const at = (now: number) => ({ tenantId: "t", action: "ws.publish" as const, now });
    assert.equal(gate.check(at(T0)).allow, true);
    gate.commit(at(T0), 1);
    const d = gate.check(at(T0 + 100));
    assert.equal(d.allow, false);
    assert.equal(!d.allow && d.retryAfterS, 1);
    assert.equal(gate.available(at(T0 + 100)), 0);
    assert.equal(gate.check(at(T0 + 1000)).allow, true);
    // A clock stepping backwards mints no tokens.
    gate.commit(at(T0 + 1000), 1);
    assert.equal(gate.check(at(T0 - 60_000)).allow, false);
    assert.equal(gate.check(at(T0 + 1999)).allow, false);
    assert.equal(gate.check(at(T0 + 2000)).allow, true);
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { StepSearch, type StepOutcome } from "../../bench/lib/step-search.js";

// The broadcast search, driven by a scripted system: which rates it measures, in which order,
// and what it reports as sustainable.

const PASS: StepOutcome = { pass: true, latencyOnly: false };
const SLOW: StepOutcome = { pass: false, latencyOnly: true };
const LOSSY: StepOutcome = { pass: false, latencyOnly: false };

/** Runs a search against `judge(rate, attempt)`; returns the rates measured and the result. */
function drive(limits: { startRate: number; maxWindows: number; maxRetries: number }, judge: (rate: number, attempt: number) => StepOutcome) {
  const search = new StepSearch(limits);
  const measured: string[] = [];
  const attempts = new Map<number, number>();
  for (let rate = search.next(); rate !== undefined; rate = search.next()) {
    const attempt = (attempts.get(rate) ?? 0) + 1;
    attempts.set(rate, attempt);
    measured.push(search.isRetry ? `${rate}*` : `${rate}`);
    search.record(judge(rate, attempt));
  }
  return { measured, sustainable: search.sustainable };
}

const limits = { startRate: 2, maxWindows: 12, maxRetries: 3 };

describe("bench broadcast step search", () => {
  it("doubles to the first failure, then bisects to the highest passing rate", () => {
    const r = drive({ ...limits, maxRetries: 0 }, (rate) => (rate <= 40 ? PASS : SLOW));
    assert.deepEqual(r.measured, ["2", "4", "8", "16", "32", "64", "48", "40", "44"]);
    assert.equal(r.sustainable, 40);
  });

  it("measures a rate that failed on latency alone once more, and keeps it if that window passes", () => {
    // One slow window at 2 msg/s used to end the search there.
    const r = drive(limits, (rate, attempt) => (rate === 2 && attempt === 1 ? SLOW : rate <= 16 ? PASS : SLOW));
    assert.deepEqual(r.measured.slice(0, 3), ["2", "2*", "4"]);
    assert.equal(r.sustainable, 16);
  });

  it("fails a rate whose second window is slow too", () => {
    const r = drive(limits, (rate) => (rate <= 8 ? PASS : SLOW));
    assert.deepEqual(r.measured.slice(0, 5), ["2", "4", "8", "16", "16*"]);
    assert.equal(r.sustainable, 8);
  });

  it("never repeats a window that lost, duplicated, reordered or did not drain", () => {
    const r = drive(limits, (rate) => (rate <= 8 ? PASS : LOSSY));
    assert.ok(!r.measured.some((m) => m.endsWith("*")), r.measured.join(","));
    assert.equal(r.sustainable, 8);
  });

  it("is bounded: at most maxRetries second windows and maxWindows windows in all", () => {
    const r = drive(limits, () => SLOW);
    assert.deepEqual(r.measured, ["2", "2*", "1", "1*", "0.5", "0.5*"]);
    const retried = drive({ ...limits, maxRetries: 1 }, () => SLOW);
    assert.deepEqual(retried.measured, ["2", "2*", "1", "0.5"]);
    assert.equal(r.sustainable, undefined);
    const always = drive({ startRate: 1, maxWindows: 5, maxRetries: 3 }, () => PASS);
    assert.equal(always.measured.length, 5);
    assert.equal(always.sustainable, 16);
  });

  it("stop() ends the search at once", () => {
    const search = new StepSearch(limits);
    search.record(PASS);
    search.stop();
    assert.equal(search.next(), undefined);
    assert.equal(search.sustainable, 2);
  });
});

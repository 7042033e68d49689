import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { goalsFor } from "../../bench/lib/goals.js";
import type { TargetResult } from "../../bench/lib/report.js";

// The bench's target verdicts: a failed measurement must read "n/a", never "met".

const result = (target: string, metrics: Record<string, number>): TargetResult => ({ target, label: target, status: "ok", metrics, notes: [], elapsedS: 1 });
const status = (scenario: string, results: TargetResult[], text: RegExp): string | undefined => goalsFor(scenario, results).find((g) => text.test(g.text))?.status;

describe("bench targets", () => {
  it("judge ratios against a peer in both directions", () => {
    const cpu = (sy: number) => status("rooms", [result("switchyard", { serverCpuPct: sy }), result("uws", { serverCpuPct: 10 })], /CPU ≤ 2/);
    assert.equal(cpu(19), "met");
    assert.equal(cpu(21), "missed");
    const rate = (sy: number) => status("broadcast", [result("switchyard", { sustainableRate: sy }), result("uws", { sustainableRate: 50 })], /0\.8 × uWS/);
    assert.equal(rate(40), "met");
    assert.equal(rate(0), "missed", "a rate of 0 is a real miss");
  });

  it("a cost of 0 or less (a server that died reads as negative CPU) is n/a, not met", () => {
    assert.equal(status("rooms", [result("switchyard", { serverCpuPct: -14.5 }), result("uws", { serverCpuPct: 13.1 })], /CPU ≤ 2/), "n/a");
    assert.equal(status("idle", [result("switchyard", { kbPerConn: -0.17 })], /3 KB/), "n/a");
    assert.equal(status("idle", [result("switchyard", { kbPerConn: 0.54 })], /3 KB/), "met");
    assert.equal(status("noisy-neighbour", [result("switchyard", { p99Ratio: 0 })], /less than 2/), "n/a");
    assert.equal(status("sse", [result("switchyard", { cpuUsPerDelivery: 0 }), result("http-sse", { cpuUsPerDelivery: 7 })], /SSE peer/), "n/a");
    assert.equal(status("sse", [result("switchyard", { cpuUsPerDelivery: 5 }), result("http-sse", { cpuUsPerDelivery: 7 })], /SSE peer/), "met");
  });

  it("the rooms CPU verdict shows the durable peer's floor beside it, without changing it", () => {
    const goal = (results: TargetResult[]) => goalsFor("rooms", results).find((g) => /CPU ≤ 2/.test(g.text));
    const sy = result("switchyard", { serverCpuPct: 28 });
    const uws = result("uws", { serverCpuPct: 10 });
    assert.deepEqual(goal([sy, uws, result("uws-durable", { serverCpuPct: 20 })]), { text: "server CPU ≤ 2 × uWS native", status: "missed", value: "2.8×; uWS + durable append alone: 2×" });
    assert.equal(goal([sy, uws])?.value, "2.8×");
    assert.equal(goal([sy, uws, result("uws-durable", { serverCpuPct: 0 })])?.value, "2.8×", "a failed floor reading is left out");
  });

  it("a target whose peer did not run is n/a", () => {
    assert.equal(status("rooms", [result("switchyard", { serverCpuPct: 20 })], /CPU ≤ 2/), "n/a");
  });
});

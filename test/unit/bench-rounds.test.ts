import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseArgs } from "../../bench/lib/args.js";
import { renderScenario, type TargetResult } from "../../bench/lib/report.js";
import { combineRounds, median } from "../../bench/lib/rounds.js";
import type { Metric } from "../../bench/scenarios/scenario.js";

// `--repeat N`: each system's rounds folded into one result of medians.

const METRICS: Metric[] = [
  { key: "serverCpuPct", label: "server CPU", unit: "%", better: "lower" },
  { key: "p99Ms", label: "latency p99", unit: "ms", better: "lower" },
  { key: "lost", label: "lost", unit: "msgs", better: "zero" },
  { key: "steps", label: "steps", unit: "", better: "info" },
];

const round = (metrics: Record<string, number>, extra: Partial<TargetResult> = {}): TargetResult => ({
  target: "switchyard", label: "switchyard", status: "ok", metrics, notes: [], elapsedS: 10, ...extra,
});

describe("bench --repeat", () => {
  it("median of odd and even counts", () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.ok(Number.isNaN(median([])));
  });

  it("figures are medians, counts that must be zero are summed, and the chart comes from the median round", () => {
    const c = combineRounds(METRICS, [
      round({ serverCpuPct: 60, p99Ms: 30, lost: 0, steps: 7 }, { throughput: 1, notes: ["first"] }),
      round({ serverCpuPct: 45, p99Ms: 90, lost: 2, steps: 9 }, { throughput: 2, notes: ["second"] }),
      round({ serverCpuPct: 50, p99Ms: 40, lost: 0, steps: 8 }, { throughput: 3, notes: ["third"] }),
    ]);
    assert.deepEqual(c.metrics, { serverCpuPct: 50, p99Ms: 40, lost: 2, steps: 8 });
    assert.equal(c.throughput, 3, "the round whose CPU is the median");
    assert.ok(c.notes.includes("third"));
    assert.equal(c.rounds?.length, 3);
    assert.equal(c.elapsedS, 30);
  });

  it("a round that errored is named, and the others still count; with none ok the result is the error", () => {
    const c = combineRounds(METRICS, [
      round({ serverCpuPct: 40, p99Ms: 10, lost: 0 }),
      round({}, { status: "error", reason: "server exited\nmore" }),
      round({ serverCpuPct: 60, p99Ms: 30, lost: 0 }),
    ]);
    assert.equal(c.status, "ok");
    assert.equal(c.metrics.serverCpuPct, 50);
    assert.ok(c.notes.some((n) => n === "round 2: error — server exited"), c.notes.join(" | "));
    const none = combineRounds(METRICS, [round({}, { status: "error", reason: "a" }), round({}, { status: "error", reason: "b" })]);
    assert.equal(none.status, "error");
    assert.equal(none.reason, "a");
    assert.ok(none.notes.some((n) => n.startsWith("round 2: error")));
  });

  it("one round is returned as it is", () => {
    const only = round({ serverCpuPct: 40 });
    assert.equal(combineRounds(METRICS, [only]), only);
    assert.throws(() => combineRounds(METRICS, []));
  });

  it("the table shows each compared figure's range across rounds", () => {
    const sy = combineRounds(METRICS, [round({ serverCpuPct: 60, p99Ms: 30, lost: 0, steps: 7 }), round({ serverCpuPct: 45, p99Ms: 90, lost: 0, steps: 9 })]);
    const text = renderScenario({ name: "rooms", description: "d", params: {}, notApplicable: [], metrics: METRICS, results: [sy], ratios: [], goals: [] });
    assert.match(text, /server CPU \(%\)\s+52\.5 \[45–60\]/);
    assert.match(text, /steps\s+8\n/, "info figures carry no range");
  });

  it("--repeat is a whole number from 1 to 9, default 1", () => {
    const one = parseArgs(["rooms"]);
    assert.ok(one.ok && one.opts.repeat === 1);
    const three = parseArgs(["rooms", "--repeat", "3"]);
    assert.ok(three.ok && three.opts.repeat === 3);
    const eq = parseArgs(["rooms", "--repeat=2"]);
    assert.ok(eq.ok && eq.opts.repeat === 2);
    for (const bad of ["0", "10", "1.5", "x"]) assert.equal(parseArgs(["rooms", "--repeat", bad]).ok, false, bad);
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createActorMetrics, createFrontMetrics, loopDelaySeconds } from "../../src/observability/metrics.js";

describe("front event-loop lag metric", () => {
  it("is the delay beyond the sampling interval, never the interval itself", () => {
    // An idle loop sampled every 20 ms records ~20.2 ms per interval: that is 0.2 ms of delay.
    assert.ok(Math.abs(loopDelaySeconds(20.2e6) - 0.0002) < 1e-9);
    assert.equal(loopDelaySeconds(19.9e6), 0, "a timer that ran a hair early is no negative lag");
    assert.equal(loopDelaySeconds(45e6), 0.025);
  });

  it("reads a loop blocked for 60 ms as at least 35 ms of lag", async () => {
    const m = createFrontMetrics(0);
    await m.registry.getMetricsAsJSON(); // reset the window
    await new Promise((r) => setTimeout(r, 30));
    const until = performance.now() + 60;
    while (performance.now() < until) {
      // block the loop: the sampling timer cannot run
    }
    await new Promise((r) => setTimeout(r, 50));
    const json = (await m.registry.getMetricsAsJSON()) as Array<{ name: string; values: Array<{ value: number }> }>;
    const lag = json.find((x) => x.name === "switchyard_front_eventloop_lag_seconds")?.values[0]?.value;
    m.stop();
    assert.ok(lag !== undefined && lag >= 0.035 && lag < 1, `lag ${lag}`);
  });
});

type MetricJson = Array<{ name: string; values: Array<{ metricName?: string; value: number; labels: Record<string, unknown> }> }>;

/** Short-lived garbage, tens of MB of it: the young generation fills and is scavenged several times. */
async function makeGarbage(): Promise<void> {
  let last: { i: number; s: string } | undefined;
  for (let i = 0; i < 2_000_000; i++) last = { i, s: `x${i}` };
  assert.ok(last);
  await new Promise((r) => setTimeout(r, 50)); // GC entries reach observers asynchronously
}

async function minorPauses(m: ReturnType<typeof createActorMetrics>): Promise<{ count: number; sum: number; labels: Array<Record<string, unknown>> }> {
  const json = (await m.registry.getMetricsAsJSON()) as MetricJson;
  const values = json.find((x) => x.name === "switchyard_actor_gc_pause_seconds")?.values ?? [];
  const minor = (suffix: string) => values.find((v) => v.metricName === `switchyard_actor_gc_pause_seconds_${suffix}` && v.labels.kind === "minor")?.value ?? 0;
  return { count: minor("count"), sum: minor("sum"), labels: values.map((v) => v.labels) };
}

describe("per-thread GC pause metric", () => {
  it("records this isolate's scavenges as minor pauses, with their durations", async () => {
    const m = createActorMetrics(0);
    await makeGarbage();
    const { count, sum, labels } = await minorPauses(m);
    m.stop();
    assert.ok(count >= 1, `minor pauses counted: ${count}`);
    assert.ok(sum > 0 && sum < count, `their total, in seconds: ${sum}`);
    assert.equal(labels.find((l) => l.worker !== "0"), undefined, "labelled with the worker, as the rest of its registry");
  });

  it("stops observing when the thread's metrics are stopped, while a live set goes on", async () => {
    const stopped = createActorMetrics(1);
    const live = createActorMetrics(2);
    await makeGarbage();
    stopped.stop();
    const before = { stopped: (await minorPauses(stopped)).count, live: (await minorPauses(live)).count };
    await makeGarbage();
    const after = { stopped: (await minorPauses(stopped)).count, live: (await minorPauses(live)).count };
    live.stop();
    assert.ok(after.live > before.live, `the live set saw the new scavenges: ${before.live} → ${after.live}`);
    assert.equal(after.stopped, before.stopped, "the stopped set saw none of them");
    stopped.stop(); // a second stop is harmless
  });
});

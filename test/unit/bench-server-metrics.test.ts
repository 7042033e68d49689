import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { breakdown, describeBreakdown, parseScrape, windowQuantile } from "../../bench/lib/server-metrics.js";

// Two scrapes of a node with two actor workers; the window holds what changed between them.
// `labels`: the series' labels besides `le`, e.g. 'worker="0"'.
const histogram = (name: string, labels: string, buckets: Array<[string, number]>, sum: number): string =>
  [
    `# TYPE ${name} histogram`,
    ...buckets.map(([le, n]) => `${name}_bucket{le="${le}",${labels}} ${n}`),
    `${name}_sum{${labels}} ${sum}`,
    `${name}_count{${labels}} ${buckets.at(-1)?.[1] ?? 0}`,
  ].join("\n");

const before = parseScrape(
  [
    "switchyard_http_requests_total{route=\"/x\"} 5",
    histogram("switchyard_commit_duration_seconds", 'worker="0"', [["0.001", 10], ["0.01", 10], ["+Inf", 10]], 0.005),
    histogram("switchyard_commit_events", 'worker="0"', [["1", 10], ["8", 10], ["+Inf", 10]], 10),
    histogram("switchyard_append_wait_seconds", 'worker="0"', [["0.001", 10], ["0.01", 10], ["+Inf", 10]], 0.005),
  ].join("\n"),
  0,
);

// 100 more commits in 2 s: 50 on each worker. Worker 0: all under 1 ms; worker 1: 40 under 1 ms, 10 between 1 and 10 ms.
const after = parseScrape(
  [
    histogram("switchyard_commit_duration_seconds", 'worker="0"', [["0.001", 60], ["0.01", 60], ["+Inf", 60]], 0.03),
    histogram("switchyard_commit_duration_seconds", 'worker="1"', [["0.001", 40], ["0.01", 50], ["+Inf", 50]], 0.06),
    histogram("switchyard_commit_events", 'worker="0"', [["1", 30], ["8", 60], ["+Inf", 60]], 160),
    histogram("switchyard_commit_events", 'worker="1"', [["1", 50], ["8", 50], ["+Inf", 50]], 50),
    histogram("switchyard_append_wait_seconds", 'worker="0"', [["0.001", 60], ["0.01", 60], ["+Inf", 60]], 0.03),
    histogram("switchyard_append_wait_seconds", 'worker="1"', [["0.001", 20], ["0.01", 48], ["+Inf", 50]], 0.2),
    'switchyard_front_eventloop_lag_seconds{front="0"} 0.0121',
    'switchyard_front_eventloop_lag_seconds{front="1"} 0.0304',
    'switchyard_actor_eventloop_lag_seconds{worker="0"} 0.0042',
    'switchyard_actor_eventloop_lag_seconds{worker="1"} 0.0019',
    "",
  ].join("\n"),
  2000,
);

// A later window of the same node that also has GC pause histograms (label kind, per thread).
const withGc = (at: number, minor: number, major: number): ReturnType<typeof parseScrape> =>
  parseScrape(
    [
      histogram("switchyard_commit_events", 'worker="0"', [["1", 60 + at / 100], ["+Inf", 60 + at / 100]], 100),
      // Front: `minor` scavenges of 1-2 ms and `major` collections of 8-16 ms; the actor only fast scavenges.
      histogram("switchyard_front_gc_pause_seconds", 'kind="minor",front="0"', [["0.001", 0], ["0.002", minor], ["0.008", minor], ["0.016", minor], ["+Inf", minor]], minor * 0.0015),
      histogram("switchyard_front_gc_pause_seconds", 'kind="major",front="0"', [["0.001", 0], ["0.002", 0], ["0.008", 0], ["0.016", major], ["+Inf", major]], major * 0.012),
      histogram("switchyard_actor_gc_pause_seconds", 'kind="minor",worker="0"', [["0.001", minor], ["+Inf", minor]], minor * 0.0006),
    ].join("\n"),
    at,
  );

describe("bench server-side breakdown from /metrics", () => {
  it("sums each series over workers and keeps buckets apart by their bound", () => {
    assert.equal(after.values.get("switchyard_commit_events_count"), 110);
    assert.equal(after.values.get("switchyard_commit_duration_seconds_bucket{0.001}"), 100);
    assert.equal(after.values.get("switchyard_commit_duration_seconds_bucket{+Inf}"), 110);
    assert.equal(before.values.has("switchyard_http_requests_total"), false, "only the publish-path histograms are kept");
  });

  it("takes quantiles of the window only, interpolating inside a bucket", () => {
    // Window: 100 commits, 90 ≤ 1 ms, 10 in (1, 10] ms. p50 falls in the first bucket, p95 halfway through the second.
    assert.equal(windowQuantile(before, after, "switchyard_commit_duration_seconds", 0.5), 0.001 * (50 / 90));
    assert.ok(Math.abs((windowQuantile(before, after, "switchyard_commit_duration_seconds", 0.95) as number) - 0.0055) < 1e-9);
    // Append waits: 2 of 100 went past the last finite bound, so p99 reports that bound rather than inventing one.
    assert.equal(windowQuantile(before, after, "switchyard_append_wait_seconds", 0.99), 0.01);
    assert.equal(windowQuantile(before, after, "switchyard_ws_publish_duration_seconds", 0.99), undefined, "nothing observed");
  });

  it("reports commit rate, size and latency for the window, and says so in one line", () => {
    const b = breakdown(before, after);
    // Loop lags are the busiest thread's of each kind, not sums.
    assert.deepEqual(b, { commitsPerSec: 50, eventsPerCommit: 2, commitP50Ms: 0.56, commitP99Ms: 9.1, appendWaitP99Ms: 10, frontLagP99Ms: 30.4, actorLagP99Ms: 4.2 });
    assert.match(describeBreakdown(b!), /^server side: 50 commits\/s of 2 events, commit p50 0\.56 \/ p99 9\.1 ms, append wait p99 10 ms; loop lag p99 front 30\.4 \/ actor 4\.2 ms$/);
    assert.equal(breakdown(after, after), undefined, "no commits in the window: nothing to say");
  });

  it("adds each kind of thread's GC pauses in the window, all kinds together", () => {
    // 10 s window: the front went from 10 to 110 scavenges and from 0 to 2 full collections, the actor from 10 to 110 scavenges.
    const b = breakdown(withGc(0, 10, 0), withGc(10_000, 110, 2));
    // Front: 102 pauses; p99 is rank 100.98 of 102, inside the (8, 16] ms bucket that holds the two full ones.
    assert.equal(b?.frontGc?.pausesPerSec, 10.2);
    assert.ok(Math.abs((b?.frontGc?.p99Ms ?? 0) - (8 + (8 * 0.98) / 2)) < 0.01, `front p99 ${b?.frontGc?.p99Ms}`);
    assert.equal(b?.frontGc?.msPerSec, 17.4, "(100 × 1.5 + 2 × 12 ms) / 10 s");
    assert.deepEqual(b?.actorGc, { pausesPerSec: 10, p99Ms: 0.99, msPerSec: 6 }, "100 × 0.6 ms / 10 s");
    assert.match(describeBreakdown(b!), /; GC pauses front 10\.2\/s, p99 11\.92 ms, 17\.4 ms\/s \/ actor 10\/s, p99 0\.99 ms, 6 ms\/s$/);
    assert.equal(breakdown(before, after)?.frontGc, undefined, "a build without the metric: no GC part");
  });
});

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { WsClient } from "../helpers/clients.js";
import { randomTenant, startTestServer, type TestServer } from "../helpers/server.js";

// Where a publish's time goes, from /metrics: the front's WS publish latency
// and each actor worker's group commits and append waits. A real node with two
// actor workers on loopback; the figures are checked against each other and
// against the publishes this test made, not merely for being present.

/** Sum of a metric's samples whose labels match `labels` (a fragment such as `worker="1"`). */
function total(text: string, name: string, labels = ""): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (labels && !line.includes(labels)) continue;
    sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}

describe("publish latency metrics", () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ ACTOR_WORKERS: "2" });
  });
  after(() => s.stop());

  it("counts every WS publish once, and every appended event in exactly one commit on its worker", async () => {
    const tenant = randomTenant();
    const token = await s.token(tenant);
    const channels: string[] = [];
    // Enough threads that both workers (resources are hashed to them) own some.
    for (let i = 0; i < 12; i++) {
      const res = await s.api("/chat/threads", { token, tenant, body: {} });
      assert.equal(res.status, 201);
      channels.push(`thread:${((await res.json()) as { id: string }).id}`);
    }
    const before = await (await fetch(`${s.url}/metrics`)).text();
    const pub = await WsClient.connect(s.url, token, tenant);
    const n = 60;
    // Concurrent publishes, so that some commits carry several events.
    const acks = await Promise.all(Array.from({ length: n }, (_, i) => pub.publish(channels[i % channels.length] as string, { text: `m${i}` })));
    for (const a of acks) assert.equal(a.op, "ack", JSON.stringify(a));
    pub.close();

    const res = await fetch(`${s.url}/metrics`);
    assert.equal(res.status, 200);
    const text = await res.text();
    const delta = (name: string, labels = "") => total(text, name, labels) - total(before, name, labels);

    assert.equal(delta("switchyard_ws_publish_duration_seconds_count"), n, "one observation per acked WS publish");
    assert.ok(delta("switchyard_ws_publish_duration_seconds_sum") > 0);
    // Every event appended through the front is in exactly one commit.
    assert.equal(delta("switchyard_events_appended_total"), n);
    assert.equal(delta("switchyard_commit_events_sum"), n, "events per commit add up to the publishes");
    const commits = delta("switchyard_commit_duration_seconds_count");
    assert.equal(delta("switchyard_commit_events_count"), commits, "one size and one duration per commit");
    assert.ok(commits >= 1 && commits <= n, `${commits} commits for ${n} events`);
    // One append wait per actor batch: at least one per commit, at most one per event.
    const waits = delta("switchyard_append_wait_seconds_count");
    assert.ok(waits >= commits && waits <= n, `${waits} append waits, ${commits} commits`);
    // A wait includes its own commit, so the waits cannot add up to less than the commits they ended with.
    assert.ok(delta("switchyard_append_wait_seconds_sum") > 0);
    // Both workers report under their own label, and both committed some of the 12 threads' events.
    for (const w of ["0", "1"]) {
      assert.ok(delta("switchyard_commit_events_sum", `worker="${w}"`) > 0, `worker ${w} committed`);
    }
    assert.equal(delta("switchyard_commit_events_sum", 'worker="0"') + delta("switchyard_commit_events_sum", 'worker="1"'), n);
    // Each actor worker reports its own loop lag.
    for (const w of ["0", "1"]) assert.match(text, new RegExp(`^switchyard_actor_eventloop_lag_seconds\\{worker="${w}"\\} \\d`, "m"));
    // Each kind of thread's GC pauses reach /metrics through the supervisor's aggregation (what they count is unit-tested).
    for (const name of ["switchyard_front_gc_pause_seconds", "switchyard_actor_gc_pause_seconds"]) {
      assert.match(text, new RegExp(`^# TYPE ${name} histogram$`, "m"));
    }
    // The slowest bucket is cumulative: +Inf holds every commit.
    assert.equal(delta("switchyard_commit_duration_seconds_bucket", 'le="+Inf"'), commits);
  });
});

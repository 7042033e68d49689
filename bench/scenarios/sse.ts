// sse: many SSE subscribers on one canvas, events published over HTTP at a
// steady rate — deliveries/s and server CPU per delivery.
import type { AgentPool } from "../lib/agents.js";
import { Histogram } from "../lib/histogram.js";
import type { RunningTarget, Target } from "../targets/target.js";
import { agentsFor, CpuWindow, merge, pick, quality, qualityMetrics, round, waitDrained, windowMs, type Measured, type Scenario, type ScenarioEnv, UNLIMITED } from "./scenario.js";

const sizes = (env: ScenarioEnv) => ({
  subscribers: pick(env, 2_000, 20),
  rate: pick(env, 100, 40),
  windowMs: windowMs(env, 10, 1),
});

export const sse: Scenario = {
  name: "sse",
  description: "N SSE subscribers on one canvas, HTTP publishes at a steady rate",
  needs: ["sse"],
  serverEnv: UNLIMITED,
  metrics: [
    { key: "deliveriesPerSec", label: "deliveries/s", unit: "/s", better: "higher" },
    { key: "publishesPerSec", label: "publishes/s answered", unit: "/s", better: "higher" },
    { key: "cpuUsPerDelivery", label: "server CPU per delivery", unit: "µs", better: "lower" },
    { key: "serverCpuPct", label: "server CPU", unit: "%", better: "lower" },
    ...qualityMetrics,
    { key: "publishP99Ms", label: "publish response p99", unit: "ms", better: "lower" },
  ],
  params: (env) => sizes(env),
  agents: (env) => agentsFor(env, sizes(env).subscribers),

  async run(t: RunningTarget, _target: Target, env: ScenarioEnv, pool: AgentPool): Promise<Measured> {
    const s = sizes(env);
    const [channel] = await t.channels("canvas", 1);
    const open = await pool.openSpread("subs", t.sub("sse", "canvas"), Array.from({ length: s.subscribers }, () => [channel!]), 15_000);
    if (open.failed > 0) throw new Error(`${open.failed}/${s.subscribers} SSE subscribers failed: ${open.errorSamples.join("; ")}`);
    env.log(`  ${open.opened} SSE subscribers in ${Math.round(open.elapsedMs)} ms`);

    await pool.stats({}, true);
    const cpu = new CpuWindow(t.pid);
    const pub = await pool.publisher.publish({
      pub: t.pub("http", "canvas"), channels: [channel!], mode: "rate", rate: s.rate, conns: 1,
      // One request at a time: concurrent POSTs on several sockets may be applied out of order.
      inflight: 1,
      durationMs: s.windowMs, maxMessages: Math.ceil((s.rate * s.windowMs) / 1000),
    });
    const drained = await waitDrained(pool, pub.lastSeq, ["subs"], 5_000);
    const c = cpu.end();
    const m = merge((await pool.stats(pub.lastSeq, true)).subs);
    const notes: string[] = [];
    if (!drained) notes.push("not every subscriber received every event within 5 s of the last publish");
    const planned = Math.floor((s.rate * pub.elapsedMs) / 1000);
    // Publishes go one at a time (order), so a server slower than the offered rate sets the pace: a saturation figure.
    if (pub.sent < planned * 0.95) notes.push(`saturated: offered ${s.rate} msg/s, ${round(pub.acked / (pub.elapsedMs / 1000))} msg/s answered (each publish waits for its fan-out)`);
    if (pub.errors > 0) notes.push(`${pub.errors} publish errors: ${pub.errorSamples.join("; ")}`);
    const perSec = m.deliveries / Math.max(0.001, pub.elapsedMs / 1000);
    const ack = Histogram.from(pub.ackHist);
    return {
      metrics: {
        deliveriesPerSec: round(perSec, 0), publishesPerSec: round(pub.acked / Math.max(0.001, pub.elapsedMs / 1000)), cpuUsPerDelivery: round(m.deliveries > 0 ? c.cpuUs / m.deliveries : 0, 2), serverCpuPct: round(c.pct),
        ...quality(m), publishP99Ms: round(ack.quantile(0.99) / 1000, 2),
      },
      latency: m.hist.percentiles(),
      throughput: perSec,
      notes,
    };
  },
};

// rooms: many small channels (threads), a few subscribers each, every thread
// publishing at a steady low rate: latency, server CPU and exact delivery
// accounting with many independent sequences in flight.
import type { AgentPool } from "../lib/agents.js";
import { describeBreakdown, ServerPathWindow } from "../lib/server-metrics.js";
import type { RunningTarget, Target } from "../targets/target.js";
import { agentsFor, CpuWindow, merge, pick, quality, qualityMetrics, round, waitDrained, windowMs, type Measured, type Scenario, type ScenarioEnv, UNLIMITED } from "./scenario.js";

const sizes = (env: ScenarioEnv) => ({
  threads: pick(env, 2_000, 4),
  perThread: pick(env, 5, 3),
  /** messages per second per thread */
  threadRate: pick(env, 1, 8),
  publishers: pick(env, 20, 1),
  windowMs: windowMs(env, 15, 1),
});

export const rooms: Scenario = {
  name: "rooms",
  description: "many threads × a few WS subscribers each, every thread publishing steadily",
  needs: ["ws"],
  serverEnv: UNLIMITED,
  metrics: [
    { key: "deliveriesPerSec", label: "deliveries/s", unit: "/s", better: "higher" },
    { key: "serverCpuPct", label: "server CPU", unit: "%", better: "lower" },
    { key: "cpuUsPerDelivery", label: "server CPU per delivery", unit: "µs", better: "lower" },
    ...qualityMetrics,
    { key: "connectPerSec", label: "connect+subscribe rate", unit: "/s", better: "higher" },
  ],
  params: (env) => {
    const s = sizes(env);
    return { ...s, connections: s.threads * s.perThread };
  },
  agents: (env) => agentsFor(env, sizes(env).threads * sizes(env).perThread),

  async run(t: RunningTarget, target: Target, env: ScenarioEnv, pool: AgentPool): Promise<Measured> {
    const s = sizes(env);
    const channels = await t.channels("thread", s.threads);
    // Subscriber j of thread i sits on agent (i*perThread + j) % agents: each thread's
    // subscribers are spread over the agents, as real clients would be.
    const conns: string[][] = [];
    for (const ch of channels) for (let j = 0; j < s.perThread; j++) conns.push([ch]);
    const open = await pool.openSpread("subs", t.sub("ws", "thread"), conns, 15_000);
    if (open.failed > 0) throw new Error(`${open.failed}/${conns.length} subscribers failed: ${open.errorSamples.join("; ")}`);
    env.log(`  ${open.opened} subscribers on ${s.threads} threads in ${Math.round(open.elapsedMs)} ms`);

    await pool.stats({}, true);
    // Scraped outside the CPU window: answering /metrics is not part of the load.
    const path = await ServerPathWindow.begin(t.port, target.caps.has("durable"));
    const cpu = new CpuWindow(t.pid);
    const rate = s.threads * s.threadRate;
    const pub = await pool.publisher.publish({
      pub: t.pub("ws", "thread"), channels, mode: "rate", rate, conns: s.publishers, inflight: 1_000,
      durationMs: s.windowMs, maxMessages: Math.ceil((rate * s.windowMs) / 1000),
    });
    const drained = await waitDrained(pool, pub.lastSeq, ["subs"], 5_000);
    const c = cpu.end();
    const serverPath = await path.end();
    const m = merge((await pool.stats(pub.lastSeq, true)).subs);
    const notes: string[] = serverPath ? [describeBreakdown(serverPath)] : [];
    if (!drained) notes.push("not every subscriber received every message within 5 s of the last publish");
    if (pub.errors > 0) notes.push(`${pub.errors} publish errors: ${pub.errorSamples.join("; ")}`);
    const perSec = m.deliveries / Math.max(0.001, pub.elapsedMs / 1000);
    return {
      metrics: {
        deliveriesPerSec: round(perSec, 0), serverCpuPct: round(c.pct), cpuUsPerDelivery: round(m.deliveries > 0 ? c.cpuUs / m.deliveries : 0, 2),
        ...quality(m), connectPerSec: round(open.opened / Math.max(0.001, open.elapsedMs / 1000), 0),
      },
      latency: m.hist.percentiles(),
      throughput: perSec,
      notes,
      ...(serverPath ? { detail: { serverPath } } : {}),
    };
  },
};

// cluster: a few threads, their subscribers spread evenly over the nodes of
// a switchyard cluster, every publish sent to the first node (so most are
// forwarded to the thread's owner and fanned out to the other nodes over
// NATS). Run against `switchyard` (one node: every subscriber on it) and
// `switchyard-cluster` (three nodes on one nats-server) with the same
// workload, so the table's ratio column is single node ÷ cluster.
import type { AgentPool } from "../lib/agents.js";
import { Histogram } from "../lib/histogram.js";
import { cpuMicros, nowSec } from "../lib/system.js";
import type { RunningTarget, Target } from "../targets/target.js";
import { agentsFor, merge, ms, pick, quality, qualityMetrics, round, waitDrained, windowMs, type Measured, type Scenario, type ScenarioEnv, UNLIMITED } from "./scenario.js";

const sizes = (env: ScenarioEnv) => ({
  threads: pick(env, 6, 2),
  subscribers: pick(env, 600, 12),
  /** messages per second per thread, all published on the first node */
  threadRate: pick(env, 10, 10),
  publishers: pick(env, 6, 1),
  windowMs: windowMs(env, 10, 1),
});

/** CPU of every server-side process (all nodes and nats-server for the cluster). */
function cpuWindow(pids: readonly number[]): () => { cpuUs: number; pct: number } {
  const sum = (): number => pids.reduce((n, p) => n + cpuMicros(p), 0);
  const c0 = sum();
  const t0 = nowSec();
  return () => {
    const cpuUs = sum() - c0;
    const wallS = nowSec() - t0;
    return { cpuUs, pct: wallS > 0 ? (cpuUs / 1e6 / wallS) * 100 : 0 };
  };
}

export const cluster: Scenario = {
  name: "cluster",
  description: "threads with subscribers spread over 3 NATS-backed nodes, publishes on one node; vs the same load on one node",
  needs: ["cluster"],
  serverEnv: UNLIMITED,
  peerNote: "the peers have no cluster mode; `switchyard` is the single-node baseline, so the ratio column is single ÷ cluster",
  metrics: [
    { key: "nodes", label: "nodes", unit: "", better: "info" },
    { key: "deliveriesPerSec", label: "deliveries/s", unit: "/s", better: "higher" },
    ...qualityMetrics,
    { key: "incompleteSubs", label: "subscribers missing a message", unit: "subs", better: "zero" },
    { key: "publishErrors", label: "publish errors", unit: "msgs", better: "zero" },
    { key: "ackP99Ms", label: "publish ack p99", unit: "ms", better: "lower" },
    { key: "serverCpuPct", label: "server CPU (all processes)", unit: "%", better: "lower" },
    { key: "cpuUsPerDelivery", label: "server CPU per delivery", unit: "µs", better: "lower" },
  ],
  params: (env) => {
    const s = sizes(env);
    return { ...s, publishRate: s.threads * s.threadRate, publishedOn: "first node" };
  },
  agents: (env) => agentsFor(env, sizes(env).subscribers),

  async run(t: RunningTarget, _target: Target, env: ScenarioEnv, pool: AgentPool): Promise<Measured> {
    const s = sizes(env);
    const nodes = t.nodes ?? [t];
    const channels = await t.channels("thread", s.threads);
    // Subscriber i goes to thread i % threads and node ⌊i / threads⌋ % nodes: each thread's
    // subscribers are spread evenly over the nodes (±1), e.g. 34/33/33 of 100.
    const perNode: string[][][] = nodes.map(() => []);
    for (let i = 0; i < s.subscribers; i++) perNode[Math.floor(i / s.threads) % nodes.length]!.push([channels[i % s.threads]!]);
    const groups = nodes.map((_, i) => `node${i}`);
    const t0 = performance.now();
    for (const [i, n] of nodes.entries()) {
      const open = await pool.openSpread(groups[i]!, n.sub("ws", "thread"), perNode[i]!, 15_000);
      if (open.failed > 0) throw new Error(`node ${i}: ${open.failed}/${perNode[i]!.length} subscribers failed: ${open.errorSamples.join("; ")}`);
    }
    env.log(`  ${s.subscribers} subscribers on ${s.threads} threads over ${nodes.length} node(s) in ${Math.round(performance.now() - t0)} ms`);

    await pool.stats({}, true);
    const cpu = cpuWindow(t.cpuPids ?? [t.pid]);
    const rate = s.threads * s.threadRate;
    const pub = await pool.publisher.publish({
      pub: t.pub("ws", "thread"), channels, mode: "rate", rate, conns: s.publishers, inflight: 1_000,
      durationMs: s.windowMs, maxMessages: Math.ceil((rate * s.windowMs) / 1000),
    });
    const drained = await waitDrained(pool, pub.lastSeq, groups, 10_000);
    const c = cpu();
    const byGroup = await pool.stats(pub.lastSeq, true);
    const per = groups.map((g) => merge(byGroup[g]));
    const m = merge(groups.flatMap((g) => byGroup[g] ?? []));
    const notes: string[] = [];
    if (!drained) notes.push("not every subscriber received every message within 10 s of the last publish");
    if (pub.errors > 0) notes.push(`${pub.errors} publish errors: ${pub.errorSamples.join("; ")}`);
    if (nodes.length > 1) {
      notes.push(`per node (subs / deliveries / p99 ms / lost / dup / reordered): ${per.map((x, i) =>
        `${i}: ${x.subscriptions} / ${x.deliveries} / ${ms(x.hist.quantile(0.99))} / ${x.lost} / ${x.duplicated} / ${x.reordered}`).join("; ")}`);
    }
    const perSec = m.deliveries / Math.max(0.001, pub.elapsedMs / 1000);
    const ack = Histogram.from(pub.ackHist);
    return {
      metrics: {
        nodes: nodes.length, deliveriesPerSec: round(perSec, 0), ...quality(m),
        incompleteSubs: m.subscriptions - m.complete, publishErrors: pub.errors, ackP99Ms: ms(ack.quantile(0.99)),
        serverCpuPct: round(c.pct), cpuUsPerDelivery: round(m.deliveries > 0 ? c.cpuUs / m.deliveries : 0, 2),
      },
      latency: m.hist.percentiles(),
      throughput: perSec,
      notes,
      detail: {
        sent: pub.sent, acked: pub.acked,
        perNode: per.map((x, i) => ({ node: i, subscriptions: x.subscriptions, complete: x.complete, deliveries: x.deliveries, ...quality(x) })),
      },
    };
  },
};

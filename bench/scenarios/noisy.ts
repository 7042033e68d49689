// noisy-neighbour: quiet tenants publish at a steady rate to their own
// subscribers; one tenant then floods (closed loop, as fast as it is acked).
// The quiet tenants' delivery p99 with and without the flood shows the
// GateChain and the per-resource actors at work. Switchyard only: the peers
// have no tenants and no admission gates.
import type { AgentPool } from "../lib/agents.js";
import { describeBreakdown, ServerPathWindow, type PathBreakdown } from "../lib/server-metrics.js";
import type { PubStats } from "../lib/protocol.js";
import type { BenchTenant, RunningTarget, Target } from "../targets/target.js";
import { merge, ms, pick, quality, qualityMetrics, round, waitDrained, windowMs, type Measured, type Merged, type Scenario, type ScenarioEnv } from "./scenario.js";

const QUIET: BenchTenant[] = ["quiet1", "quiet2", "quiet3"];

const sizes = (env: ScenarioEnv) => ({
  quietTenants: pick(env, 3, 2),
  threadsPerTenant: pick(env, 4, 1),
  subsPerThread: pick(env, 5, 2),
  threadRate: pick(env, 10, 10),
  floodThreads: pick(env, 8, 2),
  floodConns: pick(env, 8, 2),
  floodInflight: pick(env, 32, 8),
  windowMs: windowMs(env, 10, 1),
});

export const noisyNeighbour: Scenario = {
  name: "noisy-neighbour",
  description: "quiet tenants' delivery p99 without and with one tenant flooding",
  needs: ["ws", "gates"],
  // The per-connection frame limit is lifted so the flood meets the tenant's GateChain, not a socket guard.
  serverEnv: { WS_MAX_MESSAGES_PER_S: "1000000" },
  peerNote: "the peers have no tenants or admission gates, so this is switchyard against its own target",
  metrics: [
    { key: "quietP99BeforeMs", label: "quiet p99 without flood", unit: "ms", better: "lower" },
    { key: "quietP99DuringMs", label: "quiet p99 during flood", unit: "ms", better: "lower" },
    { key: "p99Ratio", label: "p99 during ÷ without", unit: "×", better: "lower" },
    ...qualityMetrics,
    { key: "floodAcksPerSec", label: "flooding tenant acked/s", unit: "/s", better: "higher" },
    { key: "floodRefused", label: "flooding tenant refused", unit: "msgs", better: "info" },
  ],
  params: (env) => sizes(env),
  // Quiet subscribers, the flood, and the quiet publishers each in their own process, so
  // the flood's client-side work does not show up as the quiet tenants' latency.
  agents: (env) => (env.tiny ? 2 : 3),

  async run(t: RunningTarget, target: Target, env: ScenarioEnv, pool: AgentPool): Promise<Measured> {
    const s = sizes(env);
    const tenants = QUIET.slice(0, s.quietTenants);
    const quiet: Array<{ tenant: BenchTenant; channels: string[] }> = [];
    const quietSubs = pool.subscriberAgents[0]!;
    const flooder = pool.subscriberAgents[1] ?? pool.publisher;
    for (const tenant of tenants) {
      const channels = await t.channels("thread", s.threadsPerTenant, tenant);
      quiet.push({ tenant, channels });
      const conns = channels.flatMap((ch) => Array.from({ length: s.subsPerThread }, () => [ch]));
      const open = await quietSubs.open("quiet", t.sub("ws", "thread", tenant), conns, 15_000);
      if (open.failed > 0) throw new Error(`${open.failed} quiet subscribers failed: ${open.errorSamples.join("; ")}`);
    }
    const floodChannels = await t.channels("thread", s.floodThreads, "noisy");
    env.log(`  ${tenants.length} quiet tenants ready, ${floodChannels.length} flood threads`);

    const quietPhase = async (): Promise<{ m: Merged; pubs: PubStats[]; serverPath: PathBreakdown | undefined }> => {
      await pool.stats({}, true);
      const path = await ServerPathWindow.begin(t.port, target.caps.has("durable"));
      const pubs = await Promise.all(quiet.map((q) => pool.publisher.publish({
        pub: t.pub("ws", "thread", q.tenant), channels: q.channels, mode: "rate", rate: q.channels.length * s.threadRate,
        conns: 1, inflight: 1_000, durationMs: s.windowMs, maxMessages: Math.ceil((q.channels.length * s.threadRate * s.windowMs) / 1000),
      })));
      const expected = Object.assign({}, ...pubs.map((p) => p.lastSeq)) as Record<string, number>;
      await waitDrained(pool, expected, ["quiet"], 5_000);
      const serverPath = await path.end();
      return { m: merge((await pool.stats(expected, true)).quiet), pubs, serverPath };
    };

    const before = await quietPhase();
    env.log(`  quiet alone: p99 ${ms(before.m.hist.quantile(0.99))} ms`);
    const floodP = flooder.publish({
      pub: t.pub("ws", "thread", "noisy"), channels: floodChannels, mode: "closed", rate: 0,
      conns: s.floodConns, inflight: s.floodInflight, durationMs: s.windowMs + 500, maxMessages: 50_000_000,
    });
    const during = await quietPhase();
    const flood = await floodP;
    env.log(`  quiet during flood: p99 ${ms(during.m.hist.quantile(0.99))} ms; flood ${round(flood.acked / (flood.elapsedMs / 1000), 0)} acked/s, ${flood.errors} refused`);

    const b99 = before.m.hist.quantile(0.99);
    const d99 = during.m.hist.quantile(0.99);
    const quietErrors = [...before.pubs, ...during.pubs].reduce((n, p) => n + p.errors, 0);
    const notes = quietErrors > 0 ? [`${quietErrors} quiet publishes refused: ${during.pubs.flatMap((p) => p.errorSamples).slice(0, 2).join("; ")}`] : [];
    if (flood.errorSamples.length > 0) notes.push(`flood refusals look like: ${flood.errorSamples[0]}`);
    // All tenants together: the commits the quiet publishes shared with the flood's admitted ones.
    if (before.serverPath) notes.push(`without flood, ${describeBreakdown(before.serverPath)}`);
    if (during.serverPath) notes.push(`during flood, ${describeBreakdown(during.serverPath)}`);
    const q = quality({ ...during.m, lost: before.m.lost + during.m.lost, duplicated: before.m.duplicated + during.m.duplicated, reordered: before.m.reordered + during.m.reordered });
    return {
      metrics: {
        quietP99BeforeMs: ms(b99), quietP99DuringMs: ms(d99), p99Ratio: b99 > 0 ? round(d99 / b99, 2) : 0,
        ...q, floodAcksPerSec: round(flood.acked / Math.max(0.001, flood.elapsedMs / 1000), 0), floodRefused: flood.errors,
      },
      latency: during.m.hist.percentiles(),
      throughput: during.m.deliveries / Math.max(0.001, s.windowMs / 1000),
      notes,
      ...(before.serverPath || during.serverPath ? { detail: { serverPath: { before: before.serverPath, during: during.serverPath } } } : {}),
    };
  },
};

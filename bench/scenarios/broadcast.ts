// broadcast: one channel, many WS subscribers; a bounded step search for the
// highest publish rate that stays lossless, fully drained, with p99 < 250 ms.
// Doubling from a low rate finds the first failure, then bisection narrows
// it (bench/lib/step-search.ts, which also gives a rate that failed on its p99
// alone one more window); the window count and every wait are capped.
import type { AgentPool } from "../lib/agents.js";
import type { Percentiles } from "../lib/histogram.js";
import { StepSearch } from "../lib/step-search.js";
import { sleep } from "../lib/system.js";
import type { RunningTarget, Target } from "../targets/target.js";
import { agentsFor, CpuWindow, merge, ms, pick, qualityMetrics, round, waitDrained, windowMs, type Measured, type Scenario, type ScenarioEnv, UNLIMITED } from "./scenario.js";

const P99_LIMIT_MS = 250;

interface Step {
  rate: number;
  pass: boolean;
  why: string;
  /** Failed on its p99 alone (see StepSearch). */
  latencyOnly: boolean;
  deliveries: number;
  deliveriesPerSec: number;
  cpuUsPerDelivery: number;
  serverCpuPct: number;
  p50Ms: number;
  p99Ms: number;
  lost: number;
  duplicated: number;
  reordered: number;
  dropped: number;
  publishErrors: number;
  latency: Percentiles;
}

const sizes = (env: ScenarioEnv) => ({
  subscribers: pick(env, 5_000, 20),
  startRate: pick(env, 2, 20),
  maxWindows: pick(env, 12, 2),
  maxRetries: pick(env, 3, 0),
  stepMs: windowMs(env, 3, 0.8),
  drainMs: pick(env, 3_000, 2_000),
});

export const broadcast: Scenario = {
  name: "broadcast",
  description: "1 channel, N WS subscribers: highest lossless publish rate with p99 < 250 ms (bounded step search)",
  needs: ["ws"],
  serverEnv: UNLIMITED,
  metrics: [
    { key: "sustainableRate", label: "sustainable publish rate", unit: "msg/s", better: "higher" },
    { key: "deliveriesPerSec", label: "deliveries/s at that rate", unit: "/s", better: "higher" },
    { key: "cpuUsPerDelivery", label: "server CPU per delivery", unit: "µs", better: "lower" },
    { key: "serverCpuPct", label: "server CPU at that rate", unit: "%", better: "lower" },
    ...qualityMetrics,
    { key: "steps", label: "search steps", unit: "", better: "info" },
    { key: "badInAnyStep", label: "lost+dup+reordered in any step", unit: "msgs", better: "zero" },
  ],
  params: (env) => ({ ...sizes(env), p99LimitMs: P99_LIMIT_MS }),
  agents: (env) => agentsFor(env, sizes(env).subscribers),

  async run(t: RunningTarget, _target: Target, env: ScenarioEnv, pool: AgentPool): Promise<Measured> {
    const s = sizes(env);
    const [channel] = await t.channels("thread", 1);
    const open = await pool.openSpread("subs", t.sub("ws", "thread"), Array.from({ length: s.subscribers }, () => [channel!]), 15_000);
    if (open.failed > 0) throw new Error(`${open.failed}/${s.subscribers} subscribers failed: ${open.errorSamples.join("; ")}`);
    env.log(`  ${open.opened} subscribers in ${Math.round(open.elapsedMs)} ms`);

    const steps: (Step & { retry: boolean })[] = [];
    let best: Step | undefined;
    const search = new StepSearch({ startRate: s.startRate, maxWindows: s.maxWindows, maxRetries: s.maxRetries });
    for (let rate = search.next(); rate !== undefined; rate = search.next()) {
      const retry = search.isRetry;
      const step = { ...(await runStep(t, pool, channel!, rate, s.stepMs, s.drainMs)), retry };
      steps.push(step);
      env.log(`  step ${steps.length}: ${rate} msg/s${retry ? " (again)" : ""} → ${step.pass ? "pass" : `fail (${step.why})`}, p99 ${step.p99Ms} ms, ${round(step.cpuUsPerDelivery, 2)} µs/delivery`);
      if (step.pass) best = step;
      search.record({ pass: step.pass, latencyOnly: step.latencyOnly });
      if (step.dropped > 0) search.stop(); // the system shed subscribers: later steps would measure fewer
    }
    const at = best ?? steps[0]!;
    const notes = best ? [] : [`no rate passed; figures are from the lowest step (${at.rate} msg/s)`];
    return {
      metrics: {
        sustainableRate: best?.rate ?? 0, deliveriesPerSec: round(at.deliveriesPerSec, 0), cpuUsPerDelivery: round(at.cpuUsPerDelivery, 2),
        serverCpuPct: round(at.serverCpuPct), p50Ms: at.p50Ms, p99Ms: at.p99Ms,
        lost: at.lost, duplicated: at.duplicated, reordered: at.reordered, dropped: at.dropped, steps: steps.length,
        badInAnyStep: steps.reduce((n, x) => n + x.lost + x.duplicated + x.reordered, 0),
      },
      latency: at.latency,
      throughput: at.deliveriesPerSec,
      notes,
      detail: steps.map(({ latency: _l, ...rest }) => rest),
    };
  },
};

async function runStep(t: RunningTarget, pool: AgentPool, channel: string, rate: number, stepMs: number, drainMs: number): Promise<Step> {
  await pool.stats({}, true); // discard anything from before this window
  const cpu = new CpuWindow(t.pid);
  const pub = await pool.publisher.publish({
    pub: t.pub("ws", "thread"), channels: [channel], mode: "rate", rate, conns: 1, inflight: 1_000,
    durationMs: stepMs, maxMessages: Math.ceil((rate * stepMs) / 1000),
  });
  const expected = pub.lastSeq;
  const drained = await waitDrained(pool, expected, ["subs"], drainMs);
  const c = cpu.end();
  const m = merge((await pool.stats(expected, true, true)).subs);
  const p = m.hist.percentiles();
  const broken = [
    !drained && "not drained",
    m.lost > 0 && `${m.lost} lost`,
    m.duplicated > 0 && `${m.duplicated} duplicated`,
    m.reordered > 0 && `${m.reordered} reordered`,
    m.dropped > 0 && `${m.dropped} dropped`,
    pub.errors > 0 && `${pub.errors} publish errors (${pub.errorSamples[0] ?? ""})`,
  ].filter(Boolean);
  const slow = ms(p.p99) >= P99_LIMIT_MS;
  const why = [...broken, slow && `p99 ${ms(p.p99)} ms`].filter(Boolean).join(", ");
  // After a failure, let stragglers land before the next window, so they are not counted as its duplicates.
  if (why) await settle(pool, expected);
  return {
    rate, pass: why === "", why, latencyOnly: slow && broken.length === 0, deliveries: m.deliveries,
    deliveriesPerSec: m.deliveries / Math.max(0.001, pub.elapsedMs / 1000),
    cpuUsPerDelivery: m.deliveries > 0 ? c.cpuUs / m.deliveries : 0, serverCpuPct: c.pct,
    p50Ms: ms(p.p50), p99Ms: ms(p.p99), lost: m.lost, duplicated: m.duplicated, reordered: m.reordered,
    dropped: m.dropped, publishErrors: pub.errors, latency: p,
  };
}

/** Waits (bounded) until no more deliveries arrive for a few polls. */
async function settle(pool: AgentPool, expected: Record<string, number>): Promise<void> {
  const deadline = Date.now() + 5_000;
  let quiet = 0;
  while (Date.now() < deadline && quiet < 3) {
    await sleep(150);
    const m = merge((await pool.stats(expected, true, true)).subs);
    quiet = m.deliveries === 0 ? quiet + 1 : 0;
  }
}

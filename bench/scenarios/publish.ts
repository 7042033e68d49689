// publish: acknowledged durable publishes per second, over WS (SPEC §5 `ack`
// after the durable append) and over HTTP (201 after it), with many
// concurrent publishers on many threads; closed loop, bounded in-flight.
// Switchyard only: none of the peers acknowledges a durable append.
import { Histogram } from "../lib/histogram.js";
import type { AgentPool } from "../lib/agents.js";
import { describeBreakdown, ServerPathWindow } from "../lib/server-metrics.js";
import type { PubSpec, PubStats } from "../lib/protocol.js";
import type { RunningTarget, Target } from "../targets/target.js";
import { CpuWindow, ms, pick, round, windowMs, type Measured, type Scenario, type ScenarioEnv, UNLIMITED } from "./scenario.js";

const sizes = (env: ScenarioEnv) => ({
  threads: pick(env, 256, 4),
  wsConns: pick(env, 32, 2),
  wsInflight: pick(env, 16, 4),
  httpConcurrency: pick(env, 64, 4),
  windowMs: windowMs(env, 10, 1),
});

interface Leg {
  acksPerSec: number;
  errors: number;
  errorSamples: string[];
  hist: Histogram;
  cpuUsPerAck: number;
}

/** Runs one closed-loop leg with the threads split over the agents (each channel on one agent). */
async function leg(pool: AgentPool, pub: PubSpec, channels: string[], conns: number, inflight: number, durationMs: number, pid: number): Promise<Leg> {
  const parts = Array.from({ length: pool.size }, (_, i) => channels.filter((_, k) => k % pool.size === i)).filter((p) => p.length > 0);
  const cpu = new CpuWindow(pid);
  const results: PubStats[] = await Promise.all(parts.map((chs, i) => pool.at(i).publish({
    pub, channels: chs, mode: "closed", rate: 0, conns: Math.max(1, Math.round(conns / parts.length)), inflight,
    durationMs, maxMessages: 50_000_000,
  })));
  const c = cpu.end();
  const hist = new Histogram();
  let acked = 0, errors = 0, elapsed = 0;
  const errorSamples: string[] = [];
  for (const r of results) {
    hist.merge(r.ackHist);
    acked += r.acked;
    errors += r.errors;
    elapsed = Math.max(elapsed, r.elapsedMs);
    errorSamples.push(...r.errorSamples.slice(0, 2));
  }
  return { acksPerSec: acked / Math.max(0.001, elapsed / 1000), errors, errorSamples, hist, cpuUsPerAck: acked > 0 ? c.cpuUs / acked : 0 };
}

export const publish: Scenario = {
  name: "publish",
  description: "acknowledged durable publishes/s over WS and HTTP, many publishers on many threads",
  needs: ["ws", "durable"],
  serverEnv: UNLIMITED,
  peerNote: "the peers have no durable append to acknowledge, so this is switchyard against its own target",
  metrics: [
    { key: "wsAcksPerSec", label: "WS acked publishes/s", unit: "/s", better: "higher" },
    { key: "wsAckP50Ms", label: "WS ack p50", unit: "ms", better: "lower" },
    { key: "wsAckP99Ms", label: "WS ack p99", unit: "ms", better: "lower" },
    { key: "wsCpuUsPerAck", label: "server CPU per WS ack", unit: "µs", better: "lower" },
    { key: "wsErrors", label: "WS publish errors", unit: "", better: "zero" },
    { key: "httpAcksPerSec", label: "HTTP 201s/s", unit: "/s", better: "higher" },
    { key: "httpP50Ms", label: "HTTP p50", unit: "ms", better: "lower" },
    { key: "httpP99Ms", label: "HTTP p99", unit: "ms", better: "lower" },
    { key: "httpErrors", label: "HTTP errors", unit: "", better: "zero" },
  ],
  params: (env) => sizes(env),
  agents: (env) => Math.max(1, env.plan.clientCores.length),

  async run(t: RunningTarget, target: Target, env: ScenarioEnv, pool: AgentPool): Promise<Measured> {
    const s = sizes(env);
    const channels = await t.channels("thread", s.threads);
    const path = await ServerPathWindow.begin(t.port, target.caps.has("durable"));
    const ws = await leg(pool, t.pub("ws", "thread"), channels, s.wsConns, s.wsInflight, s.windowMs, t.pid);
    const serverPath = await path.end();
    if (serverPath) env.log(`  WS ${describeBreakdown(serverPath)}`);
    env.log(`  WS: ${round(ws.acksPerSec, 0)} acks/s, p99 ${ms(ws.hist.quantile(0.99))} ms, ${ws.errors} errors`);
    const http = await leg(pool, t.pub("http", "thread"), channels, 1, s.httpConcurrency, s.windowMs, t.pid);
    env.log(`  HTTP: ${round(http.acksPerSec, 0)} 201s/s, p99 ${ms(http.hist.quantile(0.99))} ms, ${http.errors} errors`);
    const notes = [...ws.errorSamples.map((e) => `WS: ${e}`), ...http.errorSamples.map((e) => `HTTP: ${e}`)].slice(0, 4);
    if (serverPath) notes.push(`WS leg ${describeBreakdown(serverPath)}`);
    return {
      metrics: {
        wsAcksPerSec: round(ws.acksPerSec, 0), wsAckP50Ms: ms(ws.hist.quantile(0.5)), wsAckP99Ms: ms(ws.hist.quantile(0.99)),
        wsCpuUsPerAck: round(ws.cpuUsPerAck, 1), wsErrors: ws.errors,
        httpAcksPerSec: round(http.acksPerSec, 0), httpP50Ms: ms(http.hist.quantile(0.5)), httpP99Ms: ms(http.hist.quantile(0.99)), httpErrors: http.errors,
      },
      latency: ws.hist.percentiles(),
      throughput: ws.acksPerSec,
      notes,
      ...(serverPath ? { detail: { wsServerPath: serverPath } } : {}),
    };
  },
};

// What a scenario is, and the measuring helpers every scenario shares so
// that each system is measured the same way: a CPU window from /proc, merged
// subscriber stats, and a bounded wait for every subscriber to drain.
import { Histogram, type Percentiles } from "../lib/histogram.js";
import { CONNS_PER_AGENT, type AgentPool } from "../lib/agents.js";
import type { SubStats } from "../lib/protocol.js";
import { cpuMicros, nowSec, sleep, type CorePlan } from "../lib/system.js";
import type { Capability, RunningTarget, Target } from "../targets/target.js";

export interface ScenarioEnv {
  plan: CorePlan;
  tiny: boolean;
  /** --duration: seconds per measurement window, overriding the scenario default */
  durationS: number | undefined;
  log(msg: string): void;
}

export interface Metric {
  key: string;
  label: string;
  unit: string;
  /** zero: a count that should be 0; info: context only. Neither gets a ratio. */
  better: "higher" | "lower" | "zero" | "info";
}

export interface Measured {
  metrics: Record<string, number>;
  /** delivery (or ack) latency in µs, for the chart */
  latency?: Percentiles;
  /** the scenario's headline rate (deliveries/s or acks/s), for the chart */
  throughput?: number;
  notes: string[];
  /** per-step detail (broadcast search) or phases */
  detail?: unknown;
}

export interface Scenario {
  name: string;
  description: string;
  /** a target needs all of these to take part */
  needs: Capability[];
  /** why peers are absent, when they are */
  peerNote?: string;
  metrics: Metric[];
  /** the sizes this run uses, for the report */
  params(env: ScenarioEnv): Record<string, number | string>;
  /**
   * Server configuration for this scenario. Throughput scenarios lift
   * switchyard's abuse limits (per-connection frame rate, per-tenant rate gate),
   * which the peers do not have; noisy-neighbour keeps them, they are its subject.
   */
  serverEnv?: Readonly<Record<string, string>>;
  /** Node flags for every system's server process in this scenario, switchyard's and the peers' alike. */
  serverNodeArgs?: readonly string[];
  /** load agents wanted (more only for fd headroom: the client cores are fixed) */
  agents(env: ScenarioEnv): number;
  run(t: RunningTarget, target: Target, env: ScenarioEnv, pool: AgentPool): Promise<Measured>;
}

/** Subscriber agents for `conns` connections (at least one per client core) plus the publisher agent. */
export const agentsFor = (env: ScenarioEnv, conns: number): number => Math.max(env.plan.clientCores.length, Math.ceil(conns / CONNS_PER_AGENT)) + 1;

export const pick = <T>(env: ScenarioEnv, full: T, tiny: T): T => (env.tiny ? tiny : full);
export const windowMs = (env: ScenarioEnv, fullS: number, tinyS: number): number => Math.round(1000 * (env.durationS ?? (env.tiny ? tinyS : fullS)));

export interface Merged extends Omit<SubStats, "hist"> {
  hist: Histogram;
}

export function merge(list: SubStats[] | undefined): Merged {
  const m: Merged = { subscriptions: 0, complete: 0, deliveries: 0, lost: 0, duplicated: 0, reordered: 0, malformed: 0, dropped: 0, hist: new Histogram() };
  for (const s of list ?? []) {
    m.subscriptions += s.subscriptions;
    m.complete += s.complete;
    m.deliveries += s.deliveries;
    m.lost += s.lost;
    m.duplicated += s.duplicated;
    m.reordered += s.reordered;
    m.malformed += s.malformed;
    m.dropped += s.dropped;
    m.hist.merge(s.hist);
  }
  return m;
}

/** Polls until every subscription of `groups` reached its expected seq, or the deadline. */
export async function waitDrained(pool: AgentPool, expected: Record<string, number>, groups: string[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const all = await pool.stats(expected, false);
    if (groups.every((g) => {
      const m = merge(all[g]);
      return m.complete === m.subscriptions;
    })) return true;
    if (Date.now() >= deadline) return false;
    await sleep(50);
  }
}

export class CpuWindow {
  private readonly cpu0: number;
  private readonly t0 = nowSec();
  constructor(private readonly pid: number) {
    this.cpu0 = cpuMicros(pid);
  }
  end(): { cpuUs: number; wallS: number; pct: number } {
    const cpuUs = cpuMicros(this.pid) - this.cpu0;
    const wallS = nowSec() - this.t0;
    return { cpuUs, wallS, pct: wallS > 0 ? (cpuUs / 1e6 / wallS) * 100 : 0 };
  }
}

export const ms = (us: number): number => Math.round(us / 10) / 100;
export const round = (v: number, digits = 1): number => Math.round(v * 10 ** digits) / 10 ** digits;

/** Standard delivery-quality metrics from merged stats. */
export function quality(m: Merged): Record<string, number> {
  const p = m.hist.percentiles();
  return { p50Ms: ms(p.p50), p99Ms: ms(p.p99), lost: m.lost, duplicated: m.duplicated, reordered: m.reordered, dropped: m.dropped };
}

export const qualityMetrics: Metric[] = [
  { key: "p50Ms", label: "latency p50", unit: "ms", better: "lower" },
  { key: "p99Ms", label: "latency p99", unit: "ms", better: "lower" },
  { key: "lost", label: "lost", unit: "msgs", better: "zero" },
  { key: "duplicated", label: "duplicated", unit: "msgs", better: "zero" },
  { key: "reordered", label: "reordered", unit: "msgs", better: "zero" },
  { key: "dropped", label: "dropped connections", unit: "conns", better: "zero" },
];

/** Limits lifted for throughput scenarios: they measure the data path, not the abuse guards. */
export const UNLIMITED: Readonly<Record<string, string>> = {
  WS_MAX_MESSAGES_PER_S: "1000000",
  GATECHAIN_RATE_PER_S: "10000000",
};

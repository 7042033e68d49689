// `node dist/bench/run.js <scenario|all> [--duration s] [--out dir] [--targets a,b] [--repeat n] [--tiny]`
// Runs each scenario against switchyard and its peers in one invocation, on
// loopback, prints absolute figures with switchyard ÷ peer ratios, and writes
// <out>/<timestamp>.json and .svg. Exits 1 when a target errored.
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { AgentPool } from "./lib/agents.js";
import { parseArgs, USAGE } from "./lib/args.js";
import { goalsFor } from "./lib/goals.js";
import { oneLine, ratiosOf, renderScenario, type Report, type ScenarioReport, type TargetResult } from "./lib/report.js";
import { combineRounds } from "./lib/rounds.js";
import { renderSvg } from "./lib/svg.js";
import { describeFsync, probeFsync } from "./lib/disk.js";
import { machineInfo, nowSec, planCores, procAvailable, type CorePlan } from "./lib/system.js";
import { SCENARIOS } from "./scenarios/index.js";
import type { Scenario, ScenarioEnv } from "./scenarios/scenario.js";
import { TARGETS } from "./targets/index.js";
import { killAllServers, type RunningTarget, type ServerSetup, type Target } from "./targets/target.js";

const cleanups = new Set<() => Promise<void>>();
async function cleanupAll(): Promise<void> {
  for (const c of [...cleanups]) await c().catch(() => undefined);
  cleanups.clear();
  killAllServers();
}
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.once(sig, () => {
    process.stderr.write(`\n${sig}: stopping servers and load agents\n`);
    void cleanupAll().finally(() => process.exit(130));
  });
}

/**
 * Starts targets for scenarios. A full run starts each system afresh per
 * scenario (a heap grown by one scenario would flatter the next one's memory
 * figures); a --tiny run shares one server per system across scenarios, since
 * its figures are not compared and server start-up would dominate it.
 */
class Servers {
  private live = new Map<string, RunningTarget>();
  constructor(private readonly share: boolean, private readonly plan: CorePlan) {}

  async get(t: Target, setup: ServerSetup): Promise<RunningTarget> {
    const key = `${t.name} ${JSON.stringify(setup)}`;
    const have = this.live.get(key);
    if (have) return have;
    const r = await t.start(this.plan, setup);
    if (this.share) this.live.set(key, r);
    return r;
  }

  async release(r: RunningTarget, failed: boolean): Promise<void> {
    if (this.share && !failed) return;
    for (const [k, v] of this.live) if (v === r) this.live.delete(k);
    await r.stop();
  }

  async stopAll(): Promise<void> {
    const all = [...this.live.values()];
    this.live.clear();
    await Promise.all(all.map((r) => r.stop().catch(() => undefined)));
  }
}

async function runOne(scenario: Scenario, target: Target, env: ScenarioEnv, pool: () => Promise<AgentPool>, servers: Servers): Promise<TargetResult> {
  const base = { target: target.name, label: target.label, metrics: {}, notes: [] };
  const why = target.unavailable();
  if (why) return { ...base, status: "skipped", reason: why, elapsedS: 0 };
  const t0 = nowSec();
  env.log(`${scenario.name} × ${target.name}`);
  let running: RunningTarget | undefined;
  let agents: AgentPool | undefined;
  let failed = false;
  const stop = async (): Promise<void> => {
    await agents?.closeAll().catch(() => undefined);
    if (running) await servers.release(running, failed);
  };
  cleanups.add(stop);
  try {
    // Agents load while the server boots; both are bounded by their own deadlines.
    const [a, r] = await Promise.allSettled([pool(), servers.get(target, { env: scenario.serverEnv, nodeArgs: scenario.serverNodeArgs })]);
    if (a.status === "fulfilled") agents = a.value;
    if (r.status === "fulfilled") running = r.value;
    if (a.status === "rejected") throw a.reason;
    if (r.status === "rejected") throw r.reason;
    const m = await scenario.run(running!, target, env, agents!);
    return { ...base, status: "ok", ...m, elapsedS: Math.round((nowSec() - t0) * 10) / 10 };
  } catch (err) {
    failed = true;
    const reason = err instanceof Error ? err.message : String(err);
    env.log(`  error: ${oneLine(reason)}`);
    return { ...base, status: "error", reason, elapsedS: Math.round((nowSec() - t0) * 10) / 10 };
  } finally {
    await stop();
    cleanups.delete(stop);
  }
}

/**
 * One agent pool for the whole run, sized for the most demanding scenario and
 * started on first use; agents drop every connection between targets.
 */
function lazyPool(size: number, env: ScenarioEnv): { get: () => Promise<AgentPool>; stop: () => Promise<void> } {
  let p: Promise<AgentPool> | undefined;
  return {
    get: () => (p ??= AgentPool.start(size, env.plan)),
    stop: async () => {
      const pool = await p?.catch(() => undefined);
      p = undefined;
      await pool?.stop();
    },
  };
}

async function main(): Promise<number> {
  const parsed = parseArgs(process.argv.slice(2));
  if (!parsed.ok) {
    console.error(`${parsed.problems.join("\n")}\n\n${USAGE}`);
    return 2;
  }
  const opts = parsed.opts;
  if (opts.help) {
    console.log(USAGE);
    return 0;
  }
  const scenarios = opts.scenario === "all" ? SCENARIOS : SCENARIOS.filter((s) => s.name === opts.scenario);
  if (scenarios.length === 0) {
    console.error(`unknown scenario "${opts.scenario}"; one of: ${SCENARIOS.map((s) => s.name).join(", ")}, all`);
    return 2;
  }
  const wanted = opts.targets?.split(",");
  const unknown = wanted?.filter((w) => !TARGETS.some((t) => t.name === w)) ?? [];
  if (unknown.length > 0) {
    console.error(`unknown target(s) ${unknown.join(", ")}; known: ${TARGETS.map((t) => t.name).join(", ")}`);
    return 2;
  }
  if (!procAvailable()) console.error("warning: /proc not available; server CPU and RSS figures will read 0");
  const targets = TARGETS.filter((t) => !wanted || wanted.includes(t.name));
  const plan = planCores();
  const machine = machineInfo();
  const env: ScenarioEnv = { plan, tiny: opts.tiny, durationS: opts.duration, log: (m) => process.stderr.write(`${m}\n`) };
  const startedAt = new Date();
  env.log(`machine: ${machine.cpuModel}, ${machine.nproc} cores, node ${machine.node}; ${plan.note}`);
  // A durable system's latency includes the disk's fsync tail: measured once, before any load.
  const fsync = !opts.tiny && targets.some((t) => t.caps.has("durable")) ? await probeFsync() : undefined;
  if (fsync) env.log(describeFsync(fsync));

  const servers = new Servers(opts.tiny, plan);
  const pool = lazyPool(Math.max(...scenarios.map((s) => s.agents(env))), env);
  const stopShared = async (): Promise<void> => {
    await pool.stop();
    await servers.stopAll();
  };
  cleanups.add(stopShared);
  const reports: ScenarioReport[] = [];
  for (const s of scenarios) {
    const inScenario = targets.filter((t) => !t.only || t.only.includes(s.name));
    const able = inScenario.filter((t) => s.needs.every((c) => t.caps.has(c)));
    const notApplicable = inScenario.filter((t) => !able.includes(t)).map((t) => `${t.name} (lacks ${s.needs.filter((c) => !t.caps.has(c)).join("+")})`);
    // Rounds alternate the systems, so drift on the machine during the run lands on all of them.
    const rounds = able.map((): TargetResult[] => []);
    for (let round = 1; round <= opts.repeat; round++) {
      if (opts.repeat > 1) env.log(`${s.name}: round ${round} of ${opts.repeat}`);
      for (const [i, t] of able.entries()) rounds[i]!.push(await runOne(s, t, env, pool.get, servers));
    }
    const results = rounds.map((r) => combineRounds(s.metrics, r));
    const report: ScenarioReport = {
      name: s.name, description: s.description, params: s.params(env), notApplicable, metrics: s.metrics, results,
      ratios: ratiosOf(s.metrics, results),
      goals: opts.tiny ? [] : goalsFor(s.name, results),
      ...(s.peerNote ? { peerNote: s.peerNote } : {}),
    };
    reports.push(report);
    console.log(`${renderScenario(report)}\n`);
  }

  await stopShared();
  cleanups.delete(stopShared);
  const report: Report = {
    version: 1, startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), argv: process.argv.slice(2),
    machine: fsync ? { ...machine, fsync } : machine, pinning: plan, scenarios: reports,
  };
  const outDir = resolve(opts.out);
  mkdirSync(outDir, { recursive: true });
  const stamp = startedAt.toISOString().replace(/[:.]/g, "-");
  writeFileSync(join(outDir, `${stamp}.json`), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(outDir, `${stamp}.svg`), renderSvg(report));
  console.log(`wrote ${join(outDir, `${stamp}.json`)} and .svg`);
  return reports.some((r) => r.results.some((x) => x.status === "error")) ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  async (err: unknown) => {
    console.error(err);
    await cleanupAll();
    process.exitCode = 1;
  },
);

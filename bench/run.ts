// `node dist/bench/run.js <scenario|all> [--duration s] [--out dir] [--targets a,b] [--tiny]`
// Runs each scenario against switchyard and its peers in one invocation, on
// loopback, prints absolute figures with switchyard ÷ peer ratios, and writes
// <out>/<timestamp>.json and .svg. Exits 1 when a target errored.
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { AgentPool } from "./lib/agents.js";
import { parseArgs, USAGE } from "./lib/args.js";
import { goalsFor } from "./lib/goals.js";
import { oneLine, ratiosOf, renderScenario, type Report, type ScenarioReport, type TargetResult } from "./lib/report.js";
import { renderSvg } from "./lib/svg.js";
import { machineInfo, nowSec, planCores, procAvailable } from "./lib/system.js";
import { SCENARIOS } from "./scenarios/index.js";
import type { Scenario, ScenarioEnv } from "./scenarios/scenario.js";
import { TARGETS } from "./targets/index.js";
import type { RunningTarget, Target } from "./targets/target.js";

const cleanups = new Set<() => Promise<void>>();
async function cleanupAll(): Promise<void> {
  for (const c of [...cleanups]) await c().catch(() => undefined);
  cleanups.clear();
}
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.once(sig, () => {
    process.stderr.write(`\n${sig}: stopping servers and load agents\n`);
    void cleanupAll().finally(() => process.exit(130));
  });
}

async function runOne(scenario: Scenario, target: Target, env: ScenarioEnv): Promise<TargetResult> {
  const base = { target: target.name, label: target.label, metrics: {}, notes: [] };
  const why = target.unavailable();
  if (why) return { ...base, status: "skipped", reason: why, elapsedS: 0 };
  const t0 = nowSec();
  env.log(`${scenario.name} × ${target.name}`);
  let running: RunningTarget | undefined;
  let pool: AgentPool | undefined;
  const stop = async (): Promise<void> => {
    await pool?.stop();
    await running?.stop();
  };
  cleanups.add(stop);
  try {
    pool = await AgentPool.start(scenario.agents(env), env.plan);
    running = await target.start(env.plan);
    const m = await scenario.run(running, target, env, pool);
    return { ...base, status: "ok", ...m, elapsedS: Math.round((nowSec() - t0) * 10) / 10 };
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    env.log(`  error: ${oneLine(reason)}`);
    return { ...base, status: "error", reason, elapsedS: Math.round((nowSec() - t0) * 10) / 10 };
  } finally {
    await stop();
    cleanups.delete(stop);
  }
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

  const reports: ScenarioReport[] = [];
  for (const s of scenarios) {
    const able = targets.filter((t) => s.needs.every((c) => t.caps.has(c)));
    const notApplicable = targets.filter((t) => !able.includes(t)).map((t) => `${t.name} (lacks ${s.needs.filter((c) => !t.caps.has(c)).join("+")})`);
    const results: TargetResult[] = [];
    for (const t of able) results.push(await runOne(s, t, env));
    const report: ScenarioReport = {
      name: s.name, description: s.description, params: s.params(env), notApplicable, metrics: s.metrics, results,
      ratios: ratiosOf(s.metrics, results),
      goals: opts.tiny ? [] : goalsFor(s.name, results),
      ...(s.peerNote ? { peerNote: s.peerNote } : {}),
    };
    reports.push(report);
    console.log(`${renderScenario(report)}\n`);
  }

  const report: Report = {
    version: 1, startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), argv: process.argv.slice(2),
    machine, pinning: plan, scenarios: reports,
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

// idle: many connected, silent WS connections — server memory per connection
// (growth of the settled RSS) and the connect rate.
import type { AgentPool } from "../lib/agents.js";
import { nofileLimit, rssKB, sleep } from "../lib/system.js";
import type { RunningTarget, Target } from "../targets/target.js";
import { agentsFor, CpuWindow, pick, round, type Measured, type Scenario, type ScenarioEnv, UNLIMITED } from "./scenario.js";

/** fds a server needs besides its client sockets (listeners, pipes, libuv, worker plumbing) */
const FD_HEADROOM = 300;

const sizes = (env: ScenarioEnv) => {
  const wanted = pick(env, 20_000, 50);
  const limit = nofileLimit();
  // The server holds one fd per connection; past RLIMIT_NOFILE it would fail accepts and
  // the figure would measure that, so the count is capped and the report says so.
  const connections = limit === null ? wanted : Math.min(wanted, limit - FD_HEADROOM);
  return { wanted, connections, nofile: limit ?? "unknown", connectBudgetMs: pick(env, 45_000, 10_000), quietMs: pick(env, 20_000, 0) };
};

/**
 * The lowest RSS over `quietMs` and then until it stops moving (five reads 500 ms apart
 * within 0.5 %, at most 15 s more). A fresh process, or one just done with a burst of
 * connects (handshakes, token checks), holds garbage that V8's memory reducer releases some
 * seconds after allocation stops: tens of MB, as much as 20,000 idle connections take.
 * Garbage only ever adds, so the lowest read is the closest to what is live.
 */
async function settledRss(pid: number, quietMs: number): Promise<number> {
  let low = rssKB(pid);
  const quietEnd = Date.now() + quietMs;
  while (Date.now() < quietEnd) {
    await sleep(500);
    low = Math.min(low, rssKB(pid));
  }
  const deadline = Date.now() + 15_000;
  let prev = rssKB(pid);
  let stable = 0;
  while (Date.now() < deadline && stable < 5) {
    await sleep(500);
    const cur = rssKB(pid);
    stable = Math.abs(cur - prev) <= prev * 0.005 ? stable + 1 : 0;
    prev = cur;
    low = Math.min(low, cur);
  }
  return low;
}

/**
 * Every server (switchyard and peers alike) runs here with a 1 MB semi-space. A young generation
 * that grew to its default maximum during the connect burst (16 MB semi-spaces, in every isolate:
 * switchyard has one per thread) is capacity that V8 gives back only when its memory reducer
 * happens to run, and whether it had run by the second read moved switchyard's figure between
 * 0.08 and 2.46 KB per connection in three runs of one build (the uWS peer's: 0.58-0.6 KB), and
 * the lowest read less than the uWS peer's own connections take. With the cap, four runs read
 * 0.86-1.32 KB (uWS 0.55-0.56, ws and Socket.IO as before): what is left is the baseline's spread.
 */
const IDLE_NODE_ARGS = ["--max-semi-space-size=1"] as const;

export const idle: Scenario = {
  name: "idle",
  description: "many idle WS connections: server RSS per connection and connect rate",
  needs: ["ws"],
  serverEnv: UNLIMITED,
  serverNodeArgs: IDLE_NODE_ARGS,
  metrics: [
    { key: "kbPerConn", label: "server RSS per connection", unit: "KB", better: "lower" },
    { key: "connectPerSec", label: "connect rate", unit: "/s", better: "higher" },
    { key: "cpuUsPerConnect", label: "server CPU per connect", unit: "µs", better: "lower" },
    { key: "baselineRssMB", label: "server RSS before", unit: "MB", better: "lower" },
    { key: "rssMB", label: "server RSS with all connected", unit: "MB", better: "lower" },
    { key: "failed", label: "failed connects", unit: "conns", better: "zero" },
  ],
  params: (env) => sizes(env),
  agents: (env) => agentsFor(env, sizes(env).connections),

  async run(t: RunningTarget, _target: Target, env: ScenarioEnv, pool: AgentPool): Promise<Measured> {
    const s = sizes(env);
    // Both reads wait for V8's memory reducer: a fresh switchyard sat at 168.6 MB for 8 s, then
    // 111.4 MB. Read before it ran, the baseline once outweighed 19,700 connections (-0.17 KB).
    const before = await settledRss(t.pid, s.quietMs);
    const cpu = new CpuWindow(t.pid);
    const open = await pool.openSpread("idle", t.sub("ws", "thread"), Array.from({ length: s.connections }, () => []), 20_000, s.connectBudgetMs);
    const c = cpu.end();
    env.log(`  ${open.opened} connections in ${Math.round(open.elapsedMs)} ms`);
    if (open.opened === 0) throw new Error(`no connection opened: ${open.errorSamples.join("; ")}`);
    const after = await settledRss(t.pid, s.quietMs);
    const notes: string[] = [`server started with ${IDLE_NODE_ARGS.join(" ")} (every system): RSS without young-generation capacity left over from the connect burst`];
    if (s.connections < s.wanted) notes.push(`capped at ${s.connections} connections by RLIMIT_NOFILE ${s.nofile} (wanted ${s.wanted})`);
    if (open.notAttempted > 0) notes.push(`${open.opened} of ${s.connections} connected within the ${s.connectBudgetMs / 1000} s connect budget; figures are per connection made`);
    if (open.failed > 0) notes.push(`${open.failed} connects failed: ${open.errorSamples.join("; ")}`);
    const kbPerConn = (after - before) / open.opened;
    if (kbPerConn <= 0) notes.push(`RSS did not grow with ${open.opened} connections (${round(before / 1024)} -> ${round(after / 1024)} MB): memory was released meanwhile; the figure is not judged, rerun`);
    const perSec = open.opened / Math.max(0.001, open.elapsedMs / 1000);
    return {
      metrics: {
        kbPerConn: round(kbPerConn, 2), connectPerSec: round(perSec, 0),
        cpuUsPerConnect: round(c.cpuUs / open.opened, 1), baselineRssMB: round(before / 1024), rssMB: round(after / 1024), failed: open.failed,
      },
      throughput: perSec,
      notes,
    };
  },
};

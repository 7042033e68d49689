// The machine side of the bench: core plan and taskset pinning, process CPU
// and RSS from /proc, free ports, and spawning a pinned child process.
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import net from "node:net";
import os from "node:os";

export interface CorePlan {
  nproc: number;
  taskset: boolean;
  /** cores the system under test runs on ([] = unpinned) */
  serverCores: number[];
  /** cores the load agents run on ([] = unpinned) */
  clientCores: number[];
  note: string;
}

function hasTaskset(): boolean {
  try {
    execFileSync("taskset", ["-p", String(process.pid)], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/**
 * Server on the last core, load on the others, when there are two or more and taskset exists.
 * BENCH_PIN=off leaves everything unpinned (server and load share every core), e.g. to see what a
 * node does with all of the machine's cores; the report's pinning note says so.
 */
export function planCores(): CorePlan {
  const nproc = os.availableParallelism();
  const taskset = hasTaskset();
  if (process.env.BENCH_PIN === "off") {
    return { nproc, taskset, serverCores: [], clientCores: [], note: "unpinned by BENCH_PIN=off: server and load client share all cores" };
  }
  if (!taskset || nproc < 2) {
    return { nproc, taskset, serverCores: [], clientCores: [], note: taskset ? "1 core: server and load client share it (unpinned)" : "taskset not found: server and load client unpinned" };
  }
  const serverCores = [nproc - 1];
  const clientCores = Array.from({ length: nproc - 1 }, (_, i) => i);
  return { nproc, taskset, serverCores, clientCores, note: `server pinned to core ${serverCores.join(",")}, load client to ${clientCores.join(",")} (taskset)` };
}

/** Extra node flags from the environment, e.g. BENCH_AGENT_ARGS="--cpu-prof --cpu-prof-dir=prof" (NODE_OPTIONS refuses --cpu-prof). */
export const nodeFlags = (name: "BENCH_AGENT_ARGS" | "BENCH_SERVER_ARGS"): string[] => (process.env[name] ?? "").split(/\s+/).filter(Boolean);

/** Spawns `node <args>` pinned to `cores` (taskset execs node, so the pid is node's). */
export function spawnNode(args: string[], cores: number[], opts: SpawnOptions): ChildProcess {
  if (cores.length > 0) return spawn("taskset", ["-c", cores.join(","), process.execPath, ...args], opts);
  return spawn(process.execPath, args, opts);
}

export function machineInfo(): { nproc: number; cpuModel: string; memTotalMB: number; node: string; kernel: string; nofileLimit: number | null } {
  let cpuModel = os.cpus()[0]?.model ?? "unknown";
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"));
    if (m?.[1]) cpuModel = m[1].trim();
  } catch {
    // non-Linux: os.cpus() is the best we have
  }
  return { nproc: os.availableParallelism(), cpuModel, memTotalMB: Math.round(os.totalmem() / 2 ** 20), node: process.version, kernel: os.release(), nofileLimit: nofileLimit() };
}

/** The soft RLIMIT_NOFILE children inherit (from /proc/self/limits). */
export function nofileLimit(): number | null {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync("/proc/self/limits", "utf8"));
    return m?.[1] ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

const CLK_TCK = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** A process and its descendants (a server may fork helpers). */
function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length && i < 256; i++) {
    const p = out[i]!;
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      continue;
    }
    for (const t of tasks) {
      try {
        for (const c of readFileSync(`/proc/${p}/task/${t}/children`, "utf8").trim().split(/\s+/)) if (c) out.push(Number(c));
      } catch {
        // the task ended between readdir and read
      }
    }
  }
  return out;
}

/** utime + stime of the process tree, in µs. */
export function cpuMicros(pid: number): number {
  let ticks = 0;
  for (const p of processTree(pid)) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, "utf8");
      // Fields after the parenthesised comm; utime and stime are fields 14 and 15.
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // exited
    }
  }
  return (ticks * 1e6) / CLK_TCK;
}

/** Resident set of the process tree, in KB. */
export function rssKB(pid: number): number {
  let kb = 0;
  for (const p of processTree(pid)) {
    try {
      const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${p}/status`, "utf8"));
      kb += m?.[1] ? Number(m[1]) : 0;
    } catch {
      // exited
    }
  }
  return kb;
}

export const procAvailable = (): boolean => existsSync("/proc/self/stat");

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Stops a child by pid: SIGTERM, then SIGKILL after `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 3_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export const nowSec = (): number => performance.now() / 1000;

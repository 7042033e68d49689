// The target interface: one system under test, started and stopped by the
// bench, described to the load agents as plain specs. A target that cannot
// run here (not built yet, say) reports why and is skipped, never fatal.
import type { ChildProcess } from "node:child_process";
import { appendFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { PubSpec, SubSpec } from "../lib/protocol.js";
import { nodeFlags, spawnNode, type CorePlan } from "../lib/system.js";

/** ws / sse: can carry that scenario; durable: acks after a durable append; gates: per-tenant admission (GateChain). */
export type Capability = "ws" | "sse" | "durable" | "gates" | "cluster";
export type ChannelKind = "thread" | "canvas";

/** Tenants the bench acts as; switchyard tokens are members of all of them. */
export const BENCH_TENANTS = ["bench", "quiet1", "quiet2", "quiet3", "noisy"] as const;
export type BenchTenant = (typeof BENCH_TENANTS)[number];

export interface Target {
  readonly name: string;
  readonly label: string;
  readonly caps: ReadonlySet<Capability>;
  /** the scenarios it takes part in (absent: every one whose needs it has) */
  readonly only?: readonly string[];
  /** null when the target can run here, otherwise the reason it cannot */
  unavailable(): string | null;
  start(plan: CorePlan, setup?: ServerSetup): Promise<RunningTarget>;
}

/** What a scenario asks of every server it starts. */
export interface ServerSetup {
  /** configuration of the system (switchyard's; peers have none and ignore it) */
  readonly env?: Readonly<Record<string, string>>;
  /** node flags for every server process, switchyard and peers alike (after BENCH_SERVER_ARGS) */
  readonly nodeArgs?: readonly string[];
}

export interface RunningTarget {
  readonly pid: number;
  readonly port: number;
  /** a multi-node system's nodes, the first one taking publishes (absent: the system is one process) */
  readonly nodes?: readonly RunningTarget[];
  /** every server-side process whose CPU counts (absent: `pid` and its children) */
  readonly cpuPids?: readonly number[];
  sub(via: "ws" | "sse", kind: ChannelKind, tenant?: BenchTenant): SubSpec;
  pub(via: "ws" | "http", kind: ChannelKind, tenant?: BenchTenant): PubSpec;
  /** `n` channels ready to subscribe to (created server-side where the system needs that) */
  channels(kind: ChannelKind, n: number, tenant?: BenchTenant): Promise<string[]>;
  stop(): Promise<void>;
}

export interface Spawned {
  child: ChildProcess;
  /** last lines of the child's stdout+stderr, for error messages */
  tail(): string;
  /** resolves once the process exited and its output was read (bounded by `ms`) */
  settled(ms: number): Promise<void>;
  /** resolves with the first stdout line matching `re`, rejects on exit or timeout */
  waitLine(re: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
}

/**
 * Every server child until it exits: a run interrupted while a server is still
 * booting (before any target holds it) must not leave it running.
 */
const liveServers = new Map<ChildProcess, (() => void) | undefined>();

/** SIGKILLs every server child still running and runs its `onGone` (the interrupted-run path). */
export function killAllServers(): void {
  for (const [c, gone] of liveServers) {
    if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    gone?.();
  }
  liveServers.clear();
}

/** Spawns a pinned node process and keeps a short tail of its output. */
export function spawnServer(args: string[], plan: CorePlan, opts: { cwd?: string; env?: NodeJS.ProcessEnv; nodeArgs?: readonly string[]; onGone?: () => void }): Spawned {
  const child = spawnNode([...nodeFlags("BENCH_SERVER_ARGS"), ...(opts.nodeArgs ?? []), ...args], plan.serverCores, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
  liveServers.set(child, opts.onGone);
  child.once("exit", () => {
    liveServers.delete(child);
    opts.onGone?.();
  });
  const lines: string[] = [];
  const watchers: Array<(line: string) => void> = [];
  // For profiling (e.g. with BENCH_SERVER_ARGS=--trace-gc): every line of every server, one file each.
  const logDir = process.env.BENCH_SERVER_LOG;
  if (logDir) mkdirSync(logDir, { recursive: true });
  const logFile = logDir ? join(logDir, `server-${child.pid ?? "unknown"}.log`) : undefined;
  const onChunk = (c: Buffer): void => {
    if (logFile) appendFileSync(logFile, c);
    for (const line of c.toString("utf8").split("\n")) {
      if (!line) continue;
      lines.push(line.slice(0, 500));
      if (lines.length > 20) lines.shift();
      for (const w of watchers) w(line);
    }
  };
  child.stdout?.on("data", onChunk);
  child.stderr?.on("data", onChunk);
  const tail = (): string => lines.join("\n");
  // 'close' (not 'exit') comes after the pipes are drained, so the tail holds the last words.
  const closed = new Promise<void>((r) => child.once("close", () => r()));
  return {
    child,
    tail,
    settled: (ms) => Promise.race([closed, new Promise<void>((r) => setTimeout(r, ms))]),
    waitLine: (re, timeoutMs) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "${re.source}" within ${timeoutMs} ms; output:\n${tail()}`)), timeoutMs);
        child.once("close", (code, sig) => {
          clearTimeout(timer);
          reject(new Error(`exited (${code ?? sig}) before ready; output:\n${tail()}`));
        });
        watchers.push((line) => {
          const m = re.exec(line);
          if (m) {
            clearTimeout(timer);
            resolve(m);
          }
        });
      }),
  };
}

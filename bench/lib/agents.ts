// The orchestrator's handle on its load agents: child processes pinned to the
// client cores, driven by request/response messages with a deadline each.
import type { ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { OpenResult, PubSpec, PubStats, SubSpec, SubStats } from "./protocol.js";
import { nodeFlags, spawnNode, stopChild, type CorePlan } from "./system.js";

const AGENT_MAIN = fileURLToPath(new URL("../agent/main.js", import.meta.url));

/** Connections per agent process: keeps each under the per-process fd limit with room to spare. */
export const CONNS_PER_AGENT = 9_000;

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class Agent {
  private nextId = 1;
  private pending = new Map<number, Pending>();
  private exitError: Error | null = null;

  constructor(readonly index: number, private readonly child: ChildProcess) {
    child.on("message", (m: { id: number; ok: boolean; result?: unknown; error?: string }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      clearTimeout(p.timer);
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(`agent ${index}: ${m.error}`));
    });
    child.on("exit", (code, sig) => {
      this.exitError = new Error(`agent ${index} exited (${code ?? sig})`);
      for (const p of this.pending.values()) {
        clearTimeout(p.timer);
        p.reject(this.exitError);
      }
      this.pending.clear();
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  call<T>(body: Record<string, unknown>, timeoutMs: number): Promise<T> {
    if (this.exitError) return Promise.reject(this.exitError);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`agent ${this.index}: ${String(body.cmd)} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.child.send({ id, body });
    });
  }

  open(group: string, sub: SubSpec, conns: string[][], timeoutMs: number, budgetMs?: number, concurrency = 128): Promise<OpenResult> {
    // The agent bounds each handshake by timeoutMs; the whole batch gets enough for its waves (or its budget) plus slack.
    const waves = Math.ceil(conns.length / concurrency) + 1;
    const limit = budgetMs === undefined ? timeoutMs * waves : budgetMs + timeoutMs;
    return this.call({ cmd: "open", group, sub, conns, concurrency, timeoutMs, budgetMs }, limit + 10_000);
  }

  stats(expected: Record<string, number>, reset: boolean, rebase = false): Promise<Record<string, SubStats>> {
    return this.call({ cmd: "stats", expected, reset, rebase }, 30_000);
  }

  publish(p: { pub: PubSpec; channels: string[]; mode: "rate" | "closed"; rate: number; conns: number; inflight: number; durationMs: number; maxMessages: number }): Promise<PubStats> {
    return this.call({ cmd: "publish", ...p }, p.durationMs + 40_000);
  }

  closeAll(): Promise<{ closed: number }> {
    return this.call({ cmd: "closeAll" }, 30_000);
  }

  async stop(): Promise<void> {
    const exited = new Promise<void>((r) => (this.exitError ? r() : this.child.once("exit", () => r())));
    await this.call({ cmd: "exit" }, 2_000).catch(() => undefined);
    // Let it exit by itself first (a --cpu-prof profile is written on a clean exit), then insist.
    await Promise.race([exited, new Promise((r) => setTimeout(r, 3_000))]);
    await stopChild(this.child, 2_000);
  }
}

export class AgentPool {
  private constructor(readonly agents: Agent[]) {}

  static async start(count: number, plan: CorePlan): Promise<AgentPool> {
    const agents: Agent[] = [];
    for (let i = 0; i < count; i++) {
      const child = spawnNode([...nodeFlags("BENCH_AGENT_ARGS"), AGENT_MAIN], plan.clientCores, {
        stdio: ["ignore", "inherit", "inherit", "ipc"],
        env: { ...process.env, BENCH_AGENT_ID: `a${i}` },
      });
      agents.push(new Agent(i, child));
    }
    const pool = new AgentPool(agents);
    // Wait until each agent has loaded its modules, so start-up never counts as connect time.
    try {
      await Promise.all(agents.map((a) => a.call({ cmd: "ping" }, 20_000)));
    } catch (err) {
      await pool.stop();
      throw err;
    }
    return pool;
  }

  get size(): number {
    return this.agents.length;
  }

  at(i: number): Agent {
    return this.agents[i % this.agents.length]!;
  }

  /**
   * The last agent publishes; the others hold subscribers. A publisher in its own
   * process keeps its pace and its ack handling off the subscribers' busy event loops.
   */
  get publisher(): Agent {
    return this.agents[this.agents.length - 1]!;
  }

  get subscriberAgents(): Agent[] {
    return this.agents.length > 1 ? this.agents.slice(0, -1) : this.agents;
  }

  /** Spreads connections round-robin over the subscriber agents and opens them in parallel. */
  async openSpread(group: string, sub: SubSpec, conns: string[][], timeoutMs: number, budgetMs?: number): Promise<OpenResult> {
    const agents = this.subscriberAgents;
    const parts: string[][][] = agents.map(() => []);
    conns.forEach((c, i) => parts[i % parts.length]!.push(c));
    const t0 = performance.now();
    const rs = await Promise.all(parts.map((p, i) => (p.length === 0 ? null : agents[i]!.open(group, sub, p, timeoutMs, budgetMs))));
    const out: OpenResult = { opened: 0, failed: 0, notAttempted: 0, errorSamples: [], elapsedMs: performance.now() - t0 };
    for (const r of rs) {
      if (!r) continue;
      out.opened += r.opened;
      out.failed += r.failed;
      out.notAttempted += r.notAttempted;
      out.errorSamples.push(...r.errorSamples.slice(0, 3));
    }
    return out;
  }

  /** Merged per-group stats over all agents. */
  async stats(expected: Record<string, number>, reset: boolean, rebase = false): Promise<Record<string, SubStats[]>> {
    const all = await Promise.all(this.agents.map((a) => a.stats(expected, reset, rebase)));
    const out: Record<string, SubStats[]> = {};
    for (const perAgent of all) for (const [g, s] of Object.entries(perAgent)) (out[g] ??= []).push(s);
    return out;
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.agents.map((a) => a.closeAll()));
  }

  async stop(): Promise<void> {
    await Promise.all(this.agents.map((a) => a.stop()));
  }
}

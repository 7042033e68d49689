import { MessageChannel, Worker } from "node:worker_threads";
import type { Logger } from "pino";
import { Counter, type Registry } from "prom-client";
import type { Config } from "../config/index.js";
import { WorkerMetricsRequests } from "../observability/worker-metrics.js";
import { poolThreads, type PoolThreads } from "../supervisor/thread-priority.js";
import type { WorkerControl, WorkerStatus } from "./protocol.js";

export interface PoolClient {
  setPort(worker: number, port: import("node:worker_threads").MessagePort): void;
  workerDown(worker: number): void;
}

interface Slot {
  worker: Worker | undefined;
  restarts: number;
  upSince: number;
  stopping: boolean;
  tid: number | undefined;
}

const MAX_BACKOFF_MS = 5000;

/**
 * The supervisor's actor workers: spawns ACTOR_WORKERS threads, hands every
 * client (front) a private MessagePort to each, and respawns a worker that
 * dies (throw, exit, OOM via resourceLimits) with exponential backoff. The
 * dead worker's clients are told at once so their requests fail fast.
 */
export class ActorWorkerPool {
  private readonly slots: Slot[];
  private readonly clients: PoolClient[] = [];
  private readonly restarts: Counter<"reason">;
  private readonly metricsRequests = new WorkerMetricsRequests();

  constructor(
    private readonly config: Config,
    private readonly log: Logger,
    registry: Registry,
    private readonly opts: { testHooks?: boolean; maxOldGenerationSizeMb?: number } = {},
  ) {
    this.slots = Array.from({ length: config.ACTOR_WORKERS }, () => ({ worker: undefined, restarts: 0, upSince: 0, stopping: false, tid: undefined }));
    this.restarts = new Counter({ name: "switchyard_actor_worker_restarts_total", help: "Actor worker respawns", labelNames: ["reason"], registers: [registry] });
  }

  get size(): number {
    return this.slots.length;
  }

  /** Kernel ids of the live workers' threads; `all` is false while one is down or starting. */
  get tids(): PoolThreads {
    return poolThreads(this.slots);
  }

  async start(): Promise<void> {
    await Promise.all(this.slots.map((_, i) => this.spawn(i)));
  }

  addClient(client: PoolClient): void {
    this.clients.push(client);
    this.slots.forEach((slot, i) => {
      if (slot.worker) this.connect(i, slot.worker, client);
    });
  }

  removeClient(client: PoolClient): void {
    const i = this.clients.indexOf(client);
    if (i >= 0) this.clients.splice(i, 1);
  }

  liveWorkers(): number {
    return this.slots.filter((s) => s.worker).length;
  }

  /** Every live worker's metrics as prom-client JSON, for aggregation. */
  collectMetrics(): Promise<unknown[]> {
    return this.metricsRequests.collect(
      this.slots.map((s) => s.worker),
      (worker, id) => worker.postMessage({ t: "metrics", id } satisfies WorkerControl),
    );
  }

  /** Test hook: make worker i die the given way. */
  crash(i: number, how: "throw" | "exit" | "oom"): void {
    this.slots[i]?.worker?.postMessage({ t: "crash", how } satisfies WorkerControl);
  }

  private connect(i: number, worker: Worker, client: PoolClient): void {
    const { port1, port2 } = new MessageChannel();
    worker.postMessage({ t: "attach", port: port2 } satisfies WorkerControl, [port2]);
    client.setPort(i, port1);
  }

  private spawn(i: number): Promise<void> {
    const slot = this.slots[i] as Slot;
    const worker = new Worker(new URL("../../workers/actor-worker.js", import.meta.url), {
      workerData: { config: this.config, index: i, testHooks: this.opts.testHooks === true },
      resourceLimits: { maxOldGenerationSizeMb: this.opts.maxOldGenerationSizeMb ?? 1024 },
      name: `actor-${i}`,
    });
    return new Promise((resolve) => {
      let ready = false;
      worker.on("message", (msg: WorkerStatus) => {
        if (msg.t === "metrics") return this.metricsRequests.answer(msg.id, msg.json);
        if (msg.t !== "ready" || ready) return;
        ready = true;
        slot.worker = worker;
        slot.upSince = Date.now();
        slot.tid = msg.tid;
        for (const c of this.clients) this.connect(i, worker, c);
        resolve();
      });
      worker.on("error", (e) => this.log.error({ err: e, worker: i }, "actor worker failed"));
      worker.on("exit", (code) => {
        if (slot.worker === worker) slot.worker = undefined;
        for (const c of this.clients) c.workerDown(i);
        if (!ready) resolve();
        if (slot.stopping) return;
        if (Date.now() - slot.upSince > 30_000) slot.restarts = 0;
        const delay = Math.min(MAX_BACKOFF_MS, 50 * 2 ** slot.restarts++);
        this.restarts.inc({ reason: code === 0 ? "exit" : "crash" });
        this.log.error({ worker: i, code, respawnInMs: delay }, "actor worker died; respawning");
        setTimeout(() => void this.spawn(i), delay).unref();
      });
    });
  }

  /** Every worker finishes its in-flight appends, closes its store, and exits. */
  async drain(): Promise<void> {
    await Promise.all(
      this.slots.map(async (slot) => {
        slot.stopping = true;
        const w = slot.worker;
        if (!w) return;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.config.SHUTDOWN_GRACE_MS);
          w.on("message", (m: WorkerStatus) => {
            if (m.t === "drained") {
              clearTimeout(timer);
              resolve();
            }
          });
          w.postMessage({ t: "drain" } satisfies WorkerControl);
        });
        await w.terminate();
      }),
    );
  }
}

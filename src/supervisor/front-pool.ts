import { createServer } from "node:net";
import { MessageChannel, Worker, type MessagePort } from "node:worker_threads";
import type { Logger } from "pino";
import type { PoolClient } from "../actors/worker-pool.js";
import type { Config } from "../config/index.js";
import type { FromFront, FrontWorkerData, ToFront } from "../front/control.js";
import { serveRpc, type ServiceTable } from "../rpc/rpc.js";
import { WorkerMetricsRequests } from "../observability/worker-metrics.js";
import { poolThreads, type PoolThreads } from "./thread-priority.js";

interface FrontSlot {
  worker: Worker | undefined;
  client: PoolClient | undefined;
  restarts: number;
  tid: number | undefined;
}

/**
 * The front workers: FRONT_WORKERS uWS apps on one port. Each gets an RPC
 * channel to the supervisor's services and, through the actor pool, a private
 * port to every actor worker. The first front binds (possibly port 0); the
 * others then bind the same, now fixed, port (SO_REUSEPORT).
 */
export class FrontPool {
  private readonly slots: FrontSlot[];
  private readonly metricsRequests = new WorkerMetricsRequests();
  private port = 0;
  private stopping = false;
  /** Set once every front listened; before that a dying front fails the start instead of respawning. */
  private started = false;
  uws = "unknown";
  native = false;

  constructor(
    private readonly config: Config,
    private readonly log: Logger,
    private readonly services: ServiceTable,
    private readonly jwtSecret: string | undefined,
    private readonly onClient: (client: PoolClient, replaces: PoolClient | undefined) => void,
  ) {
    this.slots = Array.from({ length: config.FRONT_WORKERS }, () => ({ worker: undefined, client: undefined, restarts: 0, tid: undefined }));
  }

  get size(): number {
    return this.slots.length;
  }

  /** Kernel ids of the running fronts' threads (as they reported when they listened); `all` is false while one is down or starting. */
  get tids(): PoolThreads {
    return poolThreads(this.slots);
  }

  live(): number {
    return this.slots.filter((s) => s.worker).length;
  }

  spawnAll(): void {
    this.slots.forEach((_, i) => this.spawn(i));
  }

  private spawn(i: number): void {
    const slot = this.slots[i] as FrontSlot;
    const { port1, port2 } = new MessageChannel();
    serveRpc(port1, this.services, (e, where) => this.log.error({ err: e, where, front: i }, "supervisor service failed"));
    const data: FrontWorkerData = { config: this.config, index: i, jwtSecret: this.jwtSecret, rpc: port2 as MessagePort };
    const worker = new Worker(new URL("../../workers/front-worker.js", import.meta.url), { workerData: data, transferList: [port2], name: `front-${i}` });
    const client: PoolClient = {
      setPort: (w, port) => worker.postMessage({ t: "actor-port", worker: w, port } satisfies ToFront, [port]),
      workerDown: (w) => worker.postMessage({ t: "actor-down", worker: w } satisfies ToFront),
    };
    const previous = slot.client;
    slot.worker = worker;
    slot.client = client;
    worker.on("message", (msg: FromFront) => {
      if (msg.t === "metrics") this.metricsRequests.answer(msg.id, msg.json);
    });
    worker.on("error", (e) => this.log.error({ err: e, front: i }, "front worker failed"));
    worker.on("exit", (code) => {
      port1.close();
      if (slot.worker === worker) slot.worker = undefined;
      if (this.stopping) return;
      if (!this.started) {
        this.log.error({ front: i, code }, "front worker failed during start-up");
        return;
      }
      const delay = Math.min(5000, 50 * 2 ** slot.restarts++);
      this.log.error({ front: i, code, respawnInMs: delay }, "front worker died; respawning");
      setTimeout(() => {
        if (this.stopping) return;
        this.spawn(i);
        void this.listenOne(i, this.port);
      }, delay).unref();
    });
    this.onClient(client, previous);
  }

  private request<T extends FromFront["t"]>(i: number, msg: ToFront, t: T): Promise<Extract<FromFront, { t: T }>> {
    const w = this.slots[i]?.worker;
    if (!w) return Promise.reject(new Error(`front ${i} is not running`));
    return new Promise((resolve, reject) => {
      const done = () => {
        w.off("message", on);
        w.off("exit", onExit);
      };
      const on = (m: FromFront) => {
        if (m.t === t || (t === "listening" && m.t === "listen-failed")) {
          done();
          resolve(m as Extract<FromFront, { t: T }>);
        }
      };
      // A front that dies before answering (e.g. it cannot start) must not leave the caller waiting.
      const onExit = (code: number) => {
        done();
        reject(new Error(`front ${i} exited with code ${code} before answering ${msg.t}`));
      };
      w.on("message", on);
      w.on("exit", onExit);
      w.postMessage(msg);
    });
  }

  private async listenOne(i: number, port: number): Promise<number> {
    const r = (await this.request(i, { t: "listen", port }, "listening")) as FromFront;
    if (r.t !== "listening") throw new Error(r.t === "listen-failed" ? r.error : "front did not listen");
    this.uws = r.uws;
    this.native = r.native;
    (this.slots[i] as FrontSlot).tid = r.tid;
    return r.port;
  }

  /** Binds every front; returns the port actually bound. */
  async listen(port: number): Promise<number> {
    // uWS threads can share a port only when it is fixed before the first bind: with port 0 and
    // several fronts, a free port is chosen here first (the kernel's pick, released at once).
    if (port === 0 && this.slots.length > 1) port = await freePort(this.config.HOST);
    this.port = await this.listenOne(0, port);
    for (let i = 1; i < this.slots.length; i++) await this.listenOne(i, this.port);
    this.started = true;
    return this.port;
  }

  broadcast(msg: ToFront): void {
    for (const s of this.slots) s.worker?.postMessage(msg);
  }

  /** Every front's metrics as prom-client JSON, for aggregation. */
  collectMetrics(): Promise<unknown[]> {
    return this.metricsRequests.collect(
      this.slots.map((s) => s.worker),
      (worker, id) => worker.postMessage({ t: "metrics", id } satisfies ToFront),
    );
  }

  /** Stop listening, close clients with 1001, finish in-flight requests. */
  async drain(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.slots.map((s, i) => (s.worker ? this.request(i, { t: "drain" }, "drained") : undefined)));
  }

  /** After the actors are drained: let every front thread end (sockets are closed by now). */
  async exit(): Promise<void> {
    await Promise.all(
      this.slots.map(async (s) => {
        const w = s.worker;
        if (!w) return;
        const exited = new Promise<void>((resolve) => w.once("exit", () => resolve()));
        w.postMessage({ t: "exit" } satisfies ToFront);
        const timer = setTimeout(() => void w.terminate(), 3000);
        await exited;
        clearTimeout(timer);
      }),
    );
  }
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const p = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(p));
    });
  });
}

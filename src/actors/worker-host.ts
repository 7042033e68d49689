import type { MessagePort } from "node:worker_threads";
import { AppError } from "../errors/index.js";
import { fromWire } from "../errors/wire.js";
import type { StoredEvent, StreamHead } from "../log/event-log.js";
import { resourceKey, type ResourceRef } from "../registry/ids.js";
import { PortBatcher, unbatch, type ActorReply, type ActorRequest, type Batched } from "./protocol.js";
import { workerFor } from "./route.js";
import type { ActorHost, HistoryPage, PublishInput, PublishOutcome } from "./types.js";

type Pending = { resolve(v: unknown): void; reject(e: unknown): void; worker: number; deadline: number };
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export type EventsListener = (rkey: string, epoch: string, events: readonly StoredEvent[]) => void;

/**
 * A front's view of the actor workers: one MessagePort per worker, requests
 * routed by a stable hash of the resource. While a worker is down its
 * requests fail fast with 503 instead of hanging; when it comes back, the
 * `onWorkerUp` listeners re-establish their watches.
 */
export class WorkerActorHost implements ActorHost {
  private readonly ports: (MessagePort | undefined)[];
  private readonly out: (PortBatcher<ActorRequest> | undefined)[] = [];
  private pending = new Map<number, Pending>();
  private nextId = 1;
  private readonly upListeners: ((worker: number) => void)[] = [];
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    workers: number,
    private readonly onEvents: EventsListener,
    private readonly timeoutMs: number,
    /** Event log shards of the data dir: a resource goes to the worker owning its shard. */
    private readonly shards = workers,
  ) {
    this.ports = new Array<MessagePort | undefined>(workers).fill(undefined);
    // One sweep for every request's deadline instead of a timer per request (a
    // measurable share of a publish's cost); a late answer is at most a quarter late.
    this.sweeper = setInterval(() => this.expire(), Math.max(10, Math.floor(timeoutMs / 4)));
    this.sweeper.unref();
  }

  /** Fails requests past their deadline; the map is in send order, so deadlines ascend. */
  private expire(): void {
    const now = Date.now();
    for (const [id, p] of this.pending) {
      if (p.deadline > now) break;
      this.pending.delete(id);
      p.reject(new AppError("ERR_TIMEOUT", { retryAfterS: 1 }));
    }
  }

  get workers(): number {
    return this.ports.length;
  }

  workerOf(ref: ResourceRef): number {
    return workerFor(resourceKey(ref), this.ports.length, this.shards);
  }

  onWorkerUp(listener: (worker: number) => void): void {
    this.upListeners.push(listener);
  }

  setPort(worker: number, port: MessagePort): void {
    this.ports[worker] = port;
    port.on("message", (msg: Batched<ActorReply>) => unbatch(msg, (m) => this.receive(m)));
    this.out[worker] = new PortBatcher<ActorRequest>((m) => port.postMessage(m));
    for (const l of this.upListeners) l(worker);
  }

  /** The worker died: everything in flight to it fails now with a retryable 503. */
  workerDown(worker: number): void {
    const port = this.ports[worker];
    this.ports[worker] = undefined;
    this.out[worker] = undefined;
    port?.removeAllListeners("message");
    port?.close();
    for (const [id, p] of this.pending) {
      if (p.worker !== worker) continue;
      this.pending.delete(id);
      p.reject(new AppError("ERR_NOT_READY", { message: "The actor worker restarted; retry", retryAfterS: 1 }));
    }
  }

  private receive(msg: ActorReply): void {
    if (msg.t === "events") {
      this.onEvents(msg.rkey, msg.epoch, msg.events);
      return;
    }
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    // A fresh map whenever none is in flight: a long-lived map's table sits in the old
    // generation, and each table it outgrows stays there, holding the requests in flight at
    // that moment (their promises and data) through every young GC until the next full one.
    if (this.pending.size === 0) this.pending = new Map();
    if (msg.ok) p.resolve(msg.value);
    else p.reject(fromWire(msg.error));
  }

  private request<T>(ref: ResourceRef, msg: DistributiveOmit<Exclude<ActorRequest, { t: "unwatch" }>, "id">): Promise<T> {
    const worker = this.workerOf(ref);
    const port = this.ports[worker];
    if (!port) return Promise.reject(new AppError("ERR_NOT_READY", { message: "The actor worker is restarting; retry", retryAfterS: 1 }));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, worker, deadline: Date.now() + this.timeoutMs });
      (this.out[worker] as PortBatcher<ActorRequest>).push({ ...msg, id } as ActorRequest);
    });
  }

  publish(ref: ResourceRef, input: PublishInput): Promise<PublishOutcome> {
    return this.request(ref, { t: "publish", ref, input });
  }

  history(ref: ResourceRef, after: number, limit: number): Promise<HistoryPage> {
    return this.request(ref, { t: "history", ref, after, limit });
  }

  head(ref: ResourceRef): Promise<StreamHead> {
    return this.request(ref, { t: "head", ref });
  }

  watch(ref: ResourceRef): Promise<StreamHead> {
    return this.request(ref, { t: "watch", ref });
  }

  unwatch(ref: ResourceRef): void {
    const w = this.workerOf(ref);
    if (this.ports[w]) this.out[w]?.push({ t: "unwatch", ref });
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    for (let i = 0; i < this.ports.length; i++) this.workerDown(i);
  }
}

import type { MessagePort } from "node:worker_threads";
import type { Config } from "../config/index.js";
import { openWorkerBackend, type WorkerBackend } from "../cluster/worker-backend.js";
import { toWire as appToWire, type WireError } from "../errors/wire.js";
import { LogConflictError, LogUnavailableError, type EventLog, type StoredEvent } from "../log/event-log.js";
import { resourceKey, type ResourceRef } from "../registry/ids.js";
import { createActorMetrics } from "../observability/metrics.js";
import { InProcessActorHost } from "./in-process-host.js";
import { PortBatcher, unbatch, type ActorReply, type ActorRequest, type Batched } from "./protocol.js";
import type { HistoryPage, PublishInput, PublishOutcome } from "./types.js";

/** Shared-log writers (redis mode) retry a refused append this many times: SQLite refused it whole, so nothing was written. */
const SHARED_LOG_RETRIES = 8;
/**
 * In a cluster an actor that stops receiving publishes has probably lost
 * ownership; evicting it soon (its head is reloaded on next use) means a
 * resource that comes back to this node starts from the log, not a stale head.
 */
const CLUSTER_IDLE_MS = 1000;

/**
 * The inside of one actor worker: its store (see WorkerBackend), the actors of
 * the resources hashed to it, and one MessagePort per front. Committed events
 * are forwarded to the fronts that watch the resource, batched per flush, and
 * in a cluster also published on the bus for the other nodes.
 */
export class ActorWorkerRuntime {
  private readonly host: InProcessActorHost;
  private readonly cluster: boolean;
  /** Set in cluster modes, where head and history must be read fresh from the shared log. */
  private readonly reader: EventLog | undefined;
  private readonly watchers = new Map<string, Set<MessagePort>>();
  private readonly replies = new Map<MessagePort, PortBatcher<ActorReply>>();
  private outbox = new Map<string, { ref: ResourceRef; epoch: string; events: StoredEvent[] }>();
  private flushScheduled = false;
  private inflight = 0;

  private readonly metrics: ReturnType<typeof createActorMetrics>;

  constructor(private readonly backend: WorkerBackend, commitWindowMs = 0, worker = 0) {
    this.cluster = backend.mode !== "memory";
    this.reader = this.cluster ? backend.reader : undefined;
    this.metrics = createActorMetrics(worker);
    const emit = (ref: ResourceRef, event: StoredEvent, epoch: string) => this.forward(ref, event, epoch);
    this.host = new InProcessActorHost(backend.shards, emit, this.cluster ? CLUSTER_IDLE_MS : undefined, commitWindowMs, this.metrics.commits);
  }

  /** Opens the backend (retrying while the bus is unreachable); undefined if stopped first. */
  static async open(config: Config, worker: number, stopped: () => boolean, warn: (msg: string, e: unknown) => void): Promise<ActorWorkerRuntime | undefined> {
    const backend = await openWorkerBackend(config, worker, stopped, warn);
    return backend && new ActorWorkerRuntime(backend, config.COMMIT_WINDOW_MS, worker);
  }

  /** This worker's registry as prom-client JSON, for the supervisor's /metrics. */
  metricsJson(): Promise<unknown> {
    return this.metrics.registry.getMetricsAsJSON();
  }

  attach(port: MessagePort): void {
    const out = new PortBatcher<ActorReply>((m) => port.postMessage(m));
    this.replies.set(port, out);
    port.on("message", (msg: Batched<ActorRequest>) => unbatch(msg, (m) => this.handle(port, m)));
    port.on("close", () => this.detach(port));
  }

  /** Finishes every request in flight (appends included), then closes the store. */
  async drain(): Promise<void> {
    while (this.inflight > 0) await new Promise((r) => setTimeout(r, 5));
    this.flush();
    for (const out of this.replies.values()) out.flush();
    await this.host.close();
    await this.backend.close();
    this.metrics.stop();
  }

  private detach(port: MessagePort): void {
    this.replies.delete(port);
    for (const set of this.watchers.values()) set.delete(port);
  }

  private handle(port: MessagePort, msg: ActorRequest): void {
    if (msg.t === "unwatch") {
      const set = this.watchers.get(resourceKey(msg.ref));
      set?.delete(port);
      if (set?.size === 0) this.watchers.delete(resourceKey(msg.ref));
      return;
    }
    this.inflight++;
    this.run(port, msg).then(
      (value) => this.reply(port, { t: "reply", id: msg.id, ok: true, value }),
      (e: unknown) => this.reply(port, { t: "reply", id: msg.id, ok: false, error: toWire(e) }),
    ).finally(() => this.inflight--);
  }

  private async run(port: MessagePort, msg: Exclude<ActorRequest, { t: "unwatch" }>): Promise<unknown> {
    switch (msg.t) {
      case "publish":
        return this.publish(msg.ref, msg.input);
      case "history":
        return this.reader ? freshHistory(this.reader, msg.ref, msg.after, msg.limit) : this.host.history(msg.ref, msg.after, msg.limit);
      case "head":
        return this.reader ? this.reader.head(msg.ref) : this.host.head(msg.ref);
      case "watch": {
        // Register before reading the head: every event after the head we
        // report is then guaranteed to be forwarded (some before it may be too;
        // the front drops seqs it already covers).
        const rkey = resourceKey(msg.ref);
        let set = this.watchers.get(rkey);
        if (!set) this.watchers.set(rkey, (set = new Set()));
        set.add(port);
        return this.reader ? this.reader.head(msg.ref) : this.host.head(msg.ref);
      }
    }
  }

  private async publish(ref: ResourceRef, input: PublishInput): Promise<PublishOutcome> {
    if (this.backend.mode !== "redis") return this.host.publish(ref, input);
    // Every node of a redis cluster may append to any resource of the shared file:
    // a refusal means another node appended first; the actor has dropped its head, so retry.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.host.publish(ref, input);
      } catch (e) {
        if (!(e instanceof LogConflictError) || attempt >= SHARED_LOG_RETRIES) throw e;
      }
    }
  }

  private reply(port: MessagePort, reply: ActorReply): void {
    // Events that became durable before this reply go out first.
    this.flush();
    this.replies.get(port)?.push(reply);
  }

  private forward(ref: ResourceRef, event: StoredEvent, epoch: string): void {
    const rkey = resourceKey(ref);
    // In memory mode only watched resources are collected (as before); a cluster publishes every commit.
    if (!this.cluster && !this.watchers.has(rkey)) return;
    let entry = this.outbox.get(rkey);
    if (!entry) this.outbox.set(rkey, (entry = { ref, epoch, events: [] }));
    entry.events.push(event);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  /** Through the port's batcher, so events never overtake replies queued before them. */
  private sendTo(port: MessagePort, msg: ActorReply): void {
    const out = this.replies.get(port);
    if (out) out.push(msg);
    else port.postMessage(msg);
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.outbox.size === 0) return;
    // A new map, not clear(): V8 gives a cleared map's replacement table the old
    // generation's space when the map lives there, and the dead table keeps every
    // event it held alive through young GCs until the next full one (with the
    // mailbox, resource-actor.ts, the rooms bench's actor worker promoted ~1.3 MB
    // per young GC; with both fixed, ~50 KB).
    const outbox = this.outbox;
    this.outbox = new Map();
    for (const [rkey, { ref, epoch, events }] of outbox) {
      for (const port of this.watchers.get(rkey) ?? []) this.sendTo(port, { t: "events", rkey, epoch, events });
      this.backend.publish(ref, epoch, events);
    }
  }
}

/** history() from the log itself, not an actor's cached head (another node may have appended). */
async function freshHistory(log: EventLog, ref: ResourceRef, after: number, limit: number): Promise<HistoryPage> {
  const head = await log.head(ref);
  const events = after >= head.lastSeq ? [] : await log.read(ref, after, limit);
  return { events, head };
}

function toWire(e: unknown): WireError {
  if (e instanceof LogUnavailableError || e instanceof LogConflictError) {
    const message = e instanceof LogConflictError ? "Another node appended to this resource first; retry" : "The event store is unavailable; retry";
    return { key: "ERR_NOT_READY", message, retryAfterS: 1 };
  }
  return appToWire(e);
}

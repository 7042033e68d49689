import type { EventLog, StreamHead } from "../log/event-log.js";
import { resourceKey, type ResourceRef } from "../registry/ids.js";
import { Committer, type CommitObserver } from "./committer.js";
import { ResourceActor } from "./resource-actor.js";
import type { ActorHost, EventSink, HistoryPage, PublishInput, PublishOutcome } from "./types.js";

/** The event logs a host appends to (one per shard it owns) and which one holds a resource. */
export interface LogShards {
  readonly logs: readonly EventLog[];
  of(ref: ResourceRef): EventLog;
}

/** One log holding every resource (a cluster's shared log, or a test's). */
export const singleShard = (log: EventLog): LogShards => ({ logs: [log], of: () => log });

/**
 * Actors in the calling thread. Used inside each actor worker (and by unit
 * tests): the worker runtime wraps one of these behind its MessagePorts.
 * Idle actors are evicted and reload their head from the log on next use.
 * Each log has its own group commit: a transaction never spans two files.
 */
export class InProcessActorHost implements ActorHost {
  private readonly actors = new Map<string, ResourceActor>();
  private readonly shards: LogShards;
  private readonly committers = new Map<EventLog, Committer>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    log: EventLog | LogShards,
    private readonly emit: EventSink = () => {},
    private readonly idleMs = 60_000,
    commitWindowMs = 0,
    commitObserver?: CommitObserver,
  ) {
    this.shards = "logs" in log ? log : singleShard(log);
    for (const l of this.shards.logs) this.committers.set(l, new Committer(l, undefined, commitWindowMs, commitObserver));
    this.sweeper = setInterval(() => this.evictIdle(), Math.max(1000, Math.min(idleMs, 30_000)));
    this.sweeper.unref();
  }

  get size(): number {
    return this.actors.size;
  }

  private actor(ref: ResourceRef): ResourceActor {
    const key = resourceKey(ref);
    let a = this.actors.get(key);
    if (!a) {
      const log = this.shards.of(ref);
      a = new ResourceActor(ref, log, this.committers.get(log) as Committer, this.emit);
      this.actors.set(key, a);
    }
    return a;
  }

  evictIdle(now = Date.now()): number {
    let evicted = 0;
    for (const [key, a] of this.actors) {
      if (a.idle && now - a.lastUsed >= this.idleMs) {
        this.actors.delete(key);
        evicted++;
      }
    }
    return evicted;
  }

  publish(ref: ResourceRef, input: PublishInput): Promise<PublishOutcome> {
    return this.actor(ref).publish(input);
  }

  async history(ref: ResourceRef, afterSeq: number, limit: number): Promise<HistoryPage> {
    const head = await this.actor(ref).currentHead();
    const events = afterSeq >= head.lastSeq ? [] : await this.shards.of(ref).read(ref, afterSeq, limit);
    return { events, head };
  }

  head(ref: ResourceRef): Promise<StreamHead> {
    return this.actor(ref).currentHead();
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    for (const log of this.shards.logs) await log.close();
  }
}

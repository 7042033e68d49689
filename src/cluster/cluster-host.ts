import type { Logger } from "pino";
import type { ActorHost, HistoryPage, PublishInput, PublishOutcome } from "../actors/types.js";
import type { WorkerActorHost } from "../actors/worker-host.js";
import type { Bus, Subscription, Subjects } from "../bus/index.js";
import { AppError } from "../errors/index.js";
import type { StoredEvent, StreamHead } from "../log/event-log.js";
import { resourceKey, type ResourceRef } from "../registry/ids.js";
import type { HubActors } from "../front/realtime/hub.js";
import { ClusterMetrics } from "./cluster-metrics.js";
import { Forwarder } from "./forwarder.js";
import { ownerOf } from "./placement.js";
import { decodeEvents } from "./wire.js";

export interface ClusterHostOptions {
  readonly nodeId: string;
  readonly bus: Bus;
  readonly subjects: Subjects;
  /** This node's actor workers. */
  readonly local: WorkerActorHost;
  /** "owner": one node appends per resource (nats); "any": every node appends to the shared log (redis). */
  readonly placement: "owner" | "any";
  readonly members: () => readonly string[];
  readonly forwardTimeoutMs: number;
  /** The hub's entry for events (the same one the local workers feed). */
  readonly onEvents: (rkey: string, epoch: string, events: readonly StoredEvent[]) => void;
  readonly metrics: ClusterMetrics;
  readonly log: Logger;
}

/**
 * A front's ActorHost and HubActors in a cluster. Publishes go to the owning
 * node (this one: its own actor workers; another: bus request-reply with a
 * deadline). Reads go to this node's actor workers, which read the shared log
 * afresh. A watched resource gets events from two paths merged by seq in the
 * hub: this node's actor workers (what it appended) and the bus subject
 * (what other nodes appended; at-most-once, so gaps backfill from the log).
 */
export class ClusterActorHost implements ActorHost, HubActors {
  private readonly subs = new Map<string, { ref: ResourceRef; sub: Subscription }>();
  private readonly forwarder: Forwarder;

  constructor(private readonly o: ClusterHostOptions) {
    this.forwarder = new Forwarder({ ...o, owner: (ref) => this.owner(ref), isOwner: (ref) => this.owner(ref) === o.nodeId });
  }

  /** Who appends for `ref` in this node's current view (undefined: no live member, e.g. NATS unreachable). */
  owner(ref: ResourceRef): string | undefined {
    return this.o.placement === "any" ? this.o.nodeId : ownerOf(resourceKey(ref), this.o.members());
  }

  async publish(ref: ResourceRef, input: PublishInput): Promise<PublishOutcome> {
    if (this.o.bus.status() !== "connected" && this.o.placement === "owner") {
      // Without NATS nothing can be appended anyway; say so now rather than after a timeout.
      throw new AppError("ERR_NOT_READY", { message: "NATS is unreachable; retry", retryAfterS: 1 });
    }
    return this.forwarder.publish(ref, input);
  }

  history(ref: ResourceRef, afterSeq: number, limit: number): Promise<HistoryPage> {
    return this.o.local.history(ref, afterSeq, limit);
  }

  head(ref: ResourceRef): Promise<StreamHead> {
    return this.o.local.head(ref);
  }

  workerOf(ref: ResourceRef): number {
    return this.o.local.workerOf(ref);
  }

  /** Subscribes to the resource's bus subject (confirmed by the server), then watches the local worker. */
  async watch(ref: ResourceRef): Promise<StreamHead> {
    const rkey = resourceKey(ref);
    const fresh = !this.subs.has(rkey);
    if (fresh) {
      const sub = this.o.bus.subscribe(this.o.subjects.event(ref), (data) => this.receive(rkey, data));
      this.subs.set(rkey, { ref, sub });
    }
    try {
      try {
        await this.o.bus.flush();
      } catch (e) {
        // nats: the log is unreachable too, so the watch fails (503). redis: the shared log still
        // works; this node's own events still arrive, and the re-sync on reconnect backfills the rest.
        if (this.o.placement === "owner") throw e;
      }
      return await this.o.local.watch(ref);
    } catch (e) {
      // A first watch that fails leaves no channel behind in the hub, so nothing would unwatch it.
      if (fresh) this.unwatch(ref);
      throw e;
    }
  }

  unwatch(ref: ResourceRef): void {
    const rkey = resourceKey(ref);
    this.subs.get(rkey)?.sub.unsubscribe();
    this.subs.delete(rkey);
    this.o.local.unwatch(ref);
  }

  /** How many watched resources change owner between two member lists (for the ownership-moves metric). */
  ownersChanged(previous: readonly string[], next: readonly string[]): number {
    if (this.o.placement === "any") return 0;
    let n = 0;
    for (const rkey of this.subs.keys()) if (ownerOf(rkey, previous) !== ownerOf(rkey, next)) n++;
    return n;
  }

  /** Serves publishes forwarded to this node (one front per node does). */
  serveForwards(isDraining: () => boolean): Subscription {
    return this.forwarder.serve(isDraining);
  }

  async close(): Promise<void> {
    for (const s of this.subs.values()) s.sub.unsubscribe();
    this.subs.clear();
    await this.o.local.close();
  }

  private receive(rkey: string, data: Uint8Array): void {
    const m = decodeEvents(data);
    if (!m) {
      this.o.log.warn({ rkey }, "undecodable event message on the bus; ignored (a gap will backfill)");
      return;
    }
    // Our own node's events reach the hub from the actor workers directly.
    if (m.nodeId === this.o.nodeId) return;
    this.o.metrics.busEvents.inc(m.events.length);
    this.o.onEvents(rkey, m.epoch, m.events);
  }
}

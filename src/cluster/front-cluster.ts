import type { Logger } from "pino";
import type { Registry as PromRegistry } from "prom-client";
import type { ActorHost, HistoryPage, PublishInput, PublishOutcome } from "../actors/types.js";
import type { WorkerActorHost } from "../actors/worker-host.js";
import { subjects, type Bus, type BusStatus, type Subscription } from "../bus/index.js";
import type { Config } from "../config/index.js";
import { AppError } from "../errors/index.js";
import type { StoredEvent, StreamHead } from "../log/event-log.js";
import type { ResourceRef } from "../registry/ids.js";
import type { RpcClient } from "../rpc/rpc.js";
import type { HubActors } from "../front/realtime/hub.js";
import { ClusterActorHost } from "./cluster-host.js";
import { ClusterMetrics } from "./cluster-metrics.js";
import { connectBus } from "./connect.js";
import { MembersFeed, type MembersView } from "./members-feed.js";

export interface FrontClusterOptions {
  readonly config: Config;
  readonly index: number;
  readonly local: WorkerActorHost;
  readonly rpc: RpcClient;
  readonly onEvents: (rkey: string, epoch: string, events: readonly StoredEvent[]) => void;
  /** Re-sync every watched channel from the log (the hub backfills what the bus lost). */
  readonly resyncAll: () => void;
  readonly metrics: PromRegistry;
  readonly log: Logger;
}

const notReady = () => new AppError("ERR_NOT_READY", { message: "this node is still connecting to the cluster; retry", retryAfterS: 1 });

/**
 * A front's cluster side: its own bus connection (threads cannot share one),
 * the member list from the supervisor, and the ClusterActorHost once both are
 * there. Until then writes and new watches answer 503; reads go to the local
 * actor workers, which need no bus. Re-syncs every watched channel when the
 * bus comes back and when the member list changes (a dead owner may have
 * appended events it never got to publish).
 */
export class FrontCluster implements ActorHost, HubActors {
  readonly ready: Promise<void>;
  private host: ClusterActorHost | undefined;
  private bus: Bus | undefined;
  private responder: Subscription | undefined;
  private readonly feed: MembersFeed | undefined;
  private readonly metrics: ClusterMetrics;
  private stopped = false;
  private draining = false;

  constructor(private readonly o: FrontClusterOptions) {
    this.metrics = new ClusterMetrics(o.metrics);
    const placement = o.config.CHAT_BUS_BACKEND === "nats" ? "owner" : "any";
    if (placement === "owner") {
      const svc = o.rpc.service<{ members(known: number): Promise<MembersView> }>("cluster");
      this.feed = new MembersFeed(
        (known) => svc.members(known),
        (next, previous) => this.membersChanged(next, previous),
        (e) => o.log.warn({ err: e }, "member list poll failed; retrying"),
      );
    }
    this.ready = this.start(placement);
  }

  private async start(placement: "owner" | "any"): Promise<void> {
    const { config, log } = this.o;
    const [bus] = await Promise.all([
      connectBus(config, () => this.stopped, (e, n) => n % 10 === 1 && log.warn({ err: e }, "front cannot reach the bus; retrying")),
      this.feed?.start(),
    ]);
    if (!bus) return;
    this.bus = bus;
    this.host = new ClusterActorHost({
      nodeId: config.NODE_ID,
      bus,
      subjects: subjects(config.NATS_PREFIX),
      local: this.o.local,
      placement,
      members: () => this.feed?.members() ?? [],
      forwardTimeoutMs: config.CLUSTER_FORWARD_TIMEOUT_MS,
      onEvents: this.o.onEvents,
      metrics: this.metrics,
      log,
    });
    // One responder per node: with several, each forwarded publish would run once per front.
    if (placement === "owner" && this.o.index === 0) this.responder = this.host.serveForwards(() => this.draining);
    let last: BusStatus = bus.status();
    bus.onStatus((s) => {
      if (s === "connected" && last !== "connected") this.resync("reconnect");
      last = s;
    });
  }

  private membersChanged(next: readonly string[], previous: readonly string[]): void {
    this.o.log.info({ members: next, previous }, "cluster members changed");
    if (this.host) this.metrics.ownershipMoves.inc(this.host.ownersChanged(previous, next));
    this.resync("members");
  }

  private resync(reason: string): void {
    this.metrics.resyncs.inc({ reason });
    this.o.resyncAll();
  }

  private get live(): ClusterActorHost {
    if (!this.host) throw notReady();
    return this.host;
  }

  publish(ref: ResourceRef, input: PublishInput): Promise<PublishOutcome> {
    return this.host ? this.host.publish(ref, input) : Promise.reject(notReady());
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

  async watch(ref: ResourceRef): Promise<StreamHead> {
    return this.live.watch(ref);
  }

  unwatch(ref: ResourceRef): void {
    if (this.host) this.host.unwatch(ref);
    else this.o.local.unwatch(ref);
  }

  /** For /readyz: this front's own link and view. */
  checks(): { ready: boolean; checks: Record<string, unknown> } {
    const status = this.bus?.status() ?? "connecting";
    return {
      // redis mode writes to the shared file without the bus: a Redis outage degrades cross-node fan-out, not readiness.
      ready: this.bus !== undefined && (status === "connected" || this.o.config.CHAT_BUS_BACKEND === "redis"),
      checks: { frontBus: status, ...(this.feed ? { frontMembers: this.feed.members() } : {}) },
    };
  }

  /** Stop taking forwarded publishes (they are answered "moved", so the sender re-resolves). */
  startDrain(): void {
    this.draining = true;
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.feed?.stop();
    this.responder?.unsubscribe();
    if (this.host) await this.host.close();
    else await this.o.local.close();
    await this.bus?.close();
  }
}

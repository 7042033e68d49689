import type { Logger } from "pino";
import type { StoredEvent, StreamHead } from "../../log/event-log.js";
import { resourceKey, type ResourceRef } from "../../registry/ids.js";
import type { HistoryPage } from "../../actors/types.js";
import { Channel, type CatchUp, type LiveSocket, type Sink } from "./channel.js";

/** What the hub needs from the actors (the front's WorkerActorHost). */
export interface HubActors {
  watch(ref: ResourceRef): Promise<StreamHead>;
  unwatch(ref: ResourceRef): void;
  history(ref: ResourceRef, after: number, limit: number): Promise<HistoryPage>;
  workerOf(ref: ResourceRef): number;
}

export interface SubscribeResult {
  readonly seq: number;
  readonly epoch: string;
  readonly recovered: boolean;
}

const PAGE = 500;
const LINGER_MS = 5000;

/**
 * Fan-out in one front. Each resource with local subscribers has a Channel
 * that watches the owning actor; events are fanned out in seq order exactly
 * once. A subscriber resuming from `since` catches up from history while live
 * events buffer for it, then joins the live fan-out in the same synchronous
 * step that flushes its buffer — no gap, no duplicate.
 */
export class Hub {
  private readonly channels = new Map<string, Channel>();

  constructor(
    private readonly actors: HubActors,
    private readonly publishWs: (topic: string, frame: string, live: ReadonlySet<LiveSocket>) => void,
    private readonly log: Logger,
  ) {}

  get size(): number {
    return this.channels.size;
  }

  /** Events from the actor worker, in seq order per resource. */
  onEvents(rkey: string, epoch: string, events: readonly StoredEvent[]): void {
    const ch = this.channels.get(rkey);
    if (!ch) return;
    // Each message brings its own copy of the epoch string; storing it every time would
    // put a new young string in a long-lived channel about once a second, to be promoted.
    if (ch.epoch !== epoch) ch.epoch = epoch;
    if (ch.syncing) ch.queue.push(...events);
    else for (const e of events) this.fanOut(ch, e);
  }

  /** The worker owning these resources restarted: re-watch and backfill what its fan-out lost. */
  onWorkerUp(worker: number): void {
    for (const ch of this.channels.values()) {
      if (this.actors.workerOf(ch.ref) === worker && !ch.syncing) this.resync(ch);
    }
  }

  /**
   * `onSubscribed` runs synchronously before the subscriber receives anything,
   * so the `subscribed` frame always precedes the first event.
   */
  async subscribe(
    ref: ResourceRef,
    sink: Sink,
    since: number | undefined,
    epoch: string | undefined,
    onSubscribed: (r: SubscribeResult) => void,
  ): Promise<SubscribeResult> {
    const ch = this.acquire(ref);
    try {
      await ch.ready;
    } catch (e) {
      this.release(ch);
      throw e;
    }
    const head = ch.lastSeq;
    const recovered = since === undefined ? false : (epoch === undefined || epoch === ch.epoch) && since <= head;
    const result = { seq: head, epoch: ch.epoch, recovered };
    onSubscribed(result);
    if (since !== undefined && recovered && since < head) {
      const c: CatchUp = { sink, lastDelivered: since, buffer: [] };
      ch.pending.add(c);
      // Caller sends `subscribed` first; the catch-up starts on the next turn.
      void this.catchUp(ch, c, head);
    } else {
      sink.goLive(ch);
    }
    return result;
  }

  unsubscribe(ref: ResourceRef, sink: Sink): void {
    const ch = this.channels.get(resourceKey(ref));
    if (!ch) return;
    for (const c of ch.pending) if (c.sink === sink) ch.pending.delete(c);
    sink.leave(ch);
    this.release(ch);
  }

  private acquire(ref: ResourceRef): Channel {
    const rkey = resourceKey(ref);
    let ch = this.channels.get(rkey);
    if (!ch) {
      ch = new Channel(ref, rkey);
      this.channels.set(rkey, ch);
      const created = ch;
      ch.ready = this.sync(ch).catch((e: unknown) => {
        // A failed first watch must not poison the channel for later subscribers.
        if (this.channels.get(rkey) === created && created.lastSeq < 0) this.channels.delete(rkey);
        throw e;
      });
    }
    if (ch.lingerTimer) {
      clearTimeout(ch.lingerTimer);
      ch.lingerTimer = undefined;
    }
    ch.refs++;
    return ch;
  }

  private release(ch: Channel): void {
    if (--ch.refs > 0) return;
    // Linger a little so a reconnecting client does not re-watch from scratch.
    ch.lingerTimer = setTimeout(() => {
      if (ch.refs > 0) return;
      this.channels.delete(ch.rkey);
      this.actors.unwatch(ch.ref);
    }, LINGER_MS);
    ch.lingerTimer.unref();
  }

  /** (Re)establishes the watch; after a restart, backfills events the dead worker never forwarded. */
  private async sync(ch: Channel): Promise<void> {
    ch.syncing = true;
    const head = await this.actors.watch(ch.ref);
    ch.epoch = head.epoch;
    if (ch.lastSeq < 0) ch.lastSeq = head.lastSeq;
    while (ch.lastSeq < head.lastSeq) {
      const page = await this.actors.history(ch.ref, ch.lastSeq, PAGE);
      if (page.events.length === 0) break;
      for (const e of page.events) this.fanOut(ch, e);
    }
    const queued = ch.queue.splice(0);
    for (const e of queued) this.fanOut(ch, e);
    ch.syncing = false;
  }

  /**
   * Re-syncs a live channel. A failure (the worker died again) must neither
   * crash the node nor leave the channel stuck: it goes back to live with its
   * queue kept, and the next restart or the next gap re-syncs it.
   */
  private resync(ch: Channel): void {
    ch.syncing = true;
    ch.ready = this.sync(ch).catch((e: unknown) => {
      this.log.warn({ err: e, rkey: ch.rkey }, "re-sync failed; will retry on the next worker restart or gap");
      ch.syncing = false;
    });
  }

  private fanOut(ch: Channel, e: StoredEvent): void {
    if (e.seq <= ch.lastSeq) return;
    if (e.seq !== ch.lastSeq + 1) {
      this.log.warn({ rkey: ch.rkey, expected: ch.lastSeq + 1, got: e.seq }, "gap in fan-out; backfilling from history");
      ch.queue.push(e);
      if (!ch.syncing) this.resync(ch);
      return;
    }
    ch.lastSeq = e.seq;
    if (ch.wsLive.size > 0) this.publishWs(ch.topic, ch.wsFrame(e), ch.wsLive);
    for (const s of ch.sse) s.deliver(ch, e);
    for (const c of ch.pending) c.buffer.push(e);
    ch.dropSseFrame();
  }

  private async catchUp(ch: Channel, c: CatchUp, target: number): Promise<void> {
    try {
      while (c.lastDelivered < target && !c.sink.closed && ch.pending.has(c)) {
        const page = await this.actors.history(ch.ref, c.lastDelivered, Math.min(PAGE, target - c.lastDelivered));
        if (page.events.length === 0) break;
        for (const e of page.events) {
          if (e.seq > c.lastDelivered && e.seq <= target) {
            c.sink.deliver(ch, e);
            c.lastDelivered = e.seq;
          }
        }
      }
    } catch (e) {
      // Going live now would leave a gap: end this subscription; the client resumes from what it has.
      this.log.warn({ err: e, rkey: ch.rkey }, "catch-up read failed; ending the subscription");
      if (ch.pending.delete(c)) c.sink.abort(ch, "not_ready");
      return;
    }
    if (!ch.pending.has(c) || c.sink.closed) return;
    // From here to goLive nothing awaits: no live event can slip between.
    for (const e of c.buffer) {
      if (e.seq > c.lastDelivered) {
        c.sink.deliver(ch, e);
        c.lastDelivered = e.seq;
      }
    }
    ch.pending.delete(c);
    c.sink.goLive(ch);
  }
}

import type { StoredEvent } from "../../log/event-log.js";
import type { ResourceRef } from "../../registry/ids.js";

/** A socket in a channel's live fan-out. */
export interface LiveSocket {
  /** Closes the socket (4408) if its send buffer is past the limit; returns the bytes buffered (0 once closed). */
  checkBackpressure(): number;
}

/** A local subscriber (one WS subscription or one SSE stream) as the hub sees it. */
export interface Sink {
  readonly closed: boolean;
  /** Delivers one event to this subscriber alone (history and catch-up). */
  deliver(channel: Channel, event: StoredEvent): void;
  /** Joins the channel's live fan-out; called synchronously after catch-up ends. */
  goLive(channel: Channel): void;
  leave(channel: Channel): void;
  /** The subscription cannot continue (e.g. history unreadable): tell the client so it resumes later. */
  abort(channel: Channel, code: "not_ready"): void;
}

export interface CatchUp {
  readonly sink: Sink;
  lastDelivered: number;
  readonly buffer: StoredEvent[];
}

/** Per-resource fan-out state in one front. */
export class Channel {
  readonly rkey: string;
  readonly name: string;
  /** uWS topic: the resource key, so tenants never share a topic. */
  readonly topic: string;
  epoch = "";
  /** Highest seq this front has fanned out (or the head when the watch began). */
  lastSeq = -1;
  syncing = true;
  readonly queue: StoredEvent[] = [];
  readonly pending = new Set<CatchUp>();
  readonly sse = new Set<Sink>();
  /** WS sessions subscribed to the topic: whose buffers to check after a publish. */
  readonly wsLive = new Set<LiveSocket>();
  refs = 0;
  ready: Promise<void> = Promise.resolve();
  lingerTimer: NodeJS.Timeout | undefined;
  // The SSE frame of the event being fanned out, written to every stream; the
  // hub drops it when the fan-out is done (dropSseFrame).
  private lastSse: { seq: number; frame: Buffer } | undefined;

  constructor(readonly ref: ResourceRef, rkey: string) {
    this.rkey = rkey;
    this.name = `${ref.kind}:${ref.id}`;
    this.topic = rkey;
  }

  /**
   * The WS event frame. Live fan-out encodes it once per event (uWS publishes
   * it to every socket of the topic); catch-up encodes what it sends. A cache
   * of the last 64 per channel held ~40 MB of old frames on the rooms bench's
   * 2,000 channels.
   */
  wsFrame(e: StoredEvent): string {
    return `{"op":"event","channel":${JSON.stringify(this.name)},"seq":${e.seq},"data":${JSON.stringify(e.payload)},"ts":${e.ts}}`;
  }

  /**
   * Forgets the SSE frame. Kept until the channel's next event, it would
   * outlive two young-generation GCs on a channel publishing about once a
   * second, and be copied into the old generation only to die there.
   */
  dropSseFrame(): void {
    this.lastSse = undefined;
  }

  /** The SSE frame as bytes, encoded once per event and written as-is to every stream. */
  sseFrame(e: StoredEvent): Buffer {
    if (this.lastSse?.seq === e.seq) return this.lastSse.frame;
    const frame = Buffer.from(`id: ${e.seq}\nevent: ${this.ref.kind === "thread" ? "message" : "canvas"}\ndata: ${JSON.stringify(e.payload)}\n\n`);
    this.lastSse = { seq: e.seq, frame };
    return frame;
  }
}

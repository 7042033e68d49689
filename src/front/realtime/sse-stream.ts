import type { StoredEvent } from "../../log/event-log.js";
import type { ResourceRef } from "../../registry/ids.js";
import type { UwsResponse } from "../uws.js";
import type { Channel, Sink } from "./channel.js";
import type { FlushQueue, Flushable } from "./flush-queue.js";

/** What a stream needs of its uWS response. */
export type SseResponse = Pick<UwsResponse, "cork" | "write" | "end" | "onWritable">;

/** Queued bytes that are sent without waiting for the flush: uWS's cork buffer is 16 KB, so more gains nothing by waiting. */
const SEND_AT_BYTES = 16 * 1024;

/**
 * One SSE stream. A frame is queued here and the stream queued for a flush
 * (FlushQueue): every frame queued by then goes out in one corked send (16 KB
 * or more goes at once). Once uWS reports backpressure the stream waits for
 * onWritable instead. Queued bytes are bounded: a reader that falls past the
 * bound is disconnected and resumes with Last-Event-ID, so nothing is lost.
 */
export class SseStream implements Sink, Flushable {
  closed = false;
  private blocked = false;
  private flushQueued = false;
  private queued: (string | Buffer)[] = [];
  private queuedBytes = 0;
  private readonly writeQueued = (): void => {
    const chunks = this.queued;
    this.queued = [];
    this.queuedBytes = 0;
    for (let i = 0; i < chunks.length; i++) {
      // uWS keeps a chunk it reports backpressure on: the rest wait for onWritable.
      if (!this.res.write(chunks[i] as string | Buffer)) {
        this.blocked = true;
        this.queued = chunks.slice(i + 1);
        for (const c of this.queued) this.queuedBytes += c.length;
        return;
      }
    }
  };

  constructor(
    readonly res: SseResponse,
    readonly ref: ResourceRef,
    private readonly maxQueued: number,
    private readonly flushes: FlushQueue,
    private readonly onEnd: () => void,
  ) {
    res.onWritable(() => {
      this.blocked = false;
      // send, not flush: a stream still in the flush queue stays marked as queued, so it is never queued twice.
      this.send();
      return !this.blocked;
    });
  }

  deliver(ch: Channel, e: StoredEvent): void {
    this.write(ch.sseFrame(e));
  }

  goLive(ch: Channel): void {
    if (!this.closed) ch.sse.add(this);
  }

  leave(ch: Channel): void {
    ch.sse.delete(this);
  }

  abort(): void {
    this.end();
  }

  write(chunk: string | Buffer): void {
    if (this.closed) return;
    this.queued.push(chunk);
    this.queuedBytes += chunk.length;
    // A burst (history, catch-up, large events) goes out at once, as the socket takes it.
    if (!this.blocked && this.queuedBytes >= SEND_AT_BYTES) this.send();
    if (this.queuedBytes > this.maxQueued) return this.end();
    if (!this.blocked && !this.flushQueued && this.queued.length > 0) {
      this.flushQueued = true;
      this.flushes.add(this);
    }
  }

  flush(): void {
    this.flushQueued = false;
    this.send();
  }

  private send(): void {
    if (this.closed || this.blocked || this.queued.length === 0) return;
    this.res.cork(this.writeQueued);
  }

  /** Ends the stream from our side (slow reader, drain, expiry, failure), with what is queued if the socket takes it. */
  end(): void {
    if (this.closed) return;
    this.closed = true;
    const overrun = this.queuedBytes > this.maxQueued;
    this.res.cork(() => {
      if (!this.blocked && !overrun) this.writeQueued();
      this.res.end();
    });
    this.queued = [];
    this.onEnd();
  }

  /** The client went away. */
  aborted(): void {
    if (this.closed) return;
    this.closed = true;
    this.queued = [];
    this.onEnd();
  }
}

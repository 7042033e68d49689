import type { StoredEvent, StreamHead } from "../log/event-log.js";
import type { ResourceRef } from "../registry/ids.js";

// Messages to and from actors. Everything here is structured-clone-able so the
// same shapes cross a MessagePort when actors live in worker threads.

export interface ThreadPublish {
  readonly kind: "thread";
  readonly senderId: string;
  readonly text: string;
  readonly clientMsgId?: string | undefined;
  readonly metadata?: Record<string, unknown> | null | undefined;
}

export interface CanvasPublish {
  readonly kind: "canvas";
  readonly senderId: string;
  readonly type: string;
  readonly data: unknown;
  readonly clientEventId?: string | undefined;
}

export type PublishInput = ThreadPublish | CanvasPublish;

export type PublishOutcome =
  /**
   * `json` is the event's data (SPEC §7) as stored, serialized once by its actor:
   * a string crosses a MessagePort far more cheaply than the object, a WS ack
   * needs only the seq, and a 201 returns it verbatim.
   */
  | { readonly status: "created" | "duplicate"; readonly seq: number; readonly json: string }
  | { readonly status: "conflict"; readonly seq: number };

export interface HistoryPage {
  readonly events: StoredEvent[];
  readonly head: StreamHead;
}

/** Where actors live: in this thread, or in worker threads behind MessagePorts. */
export interface ActorHost {
  publish(ref: ResourceRef, input: PublishInput): Promise<PublishOutcome>;
  history(ref: ResourceRef, afterSeq: number, limit: number): Promise<HistoryPage>;
  head(ref: ResourceRef): Promise<StreamHead>;
  close(): Promise<void>;
}

/** Receives each event after it is durable (the output gate has opened). */
export type EventSink = (ref: ResourceRef, event: StoredEvent, epoch: string) => void;

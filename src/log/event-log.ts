import type { ResourceRef } from "../registry/ids.js";

// The event log port: the durable, per-resource, gapless history that actors
// append to and that history/resume read from. Implementations: the embedded
// SQLite store (single node) and JetStream (cluster).

/** One stored event. `payload` is exactly what clients receive as `data`. */
export interface StoredEvent {
  readonly seq: number;
  /** Client idempotency key (`clientMsgId` / `clientEventId`), if any. */
  readonly dedupeKey: string | null;
  /** Digest of the idempotent part of the body, to tell a retry from a conflict. */
  readonly bodyHash: string;
  readonly payload: Record<string, unknown>;
  readonly ts: number;
}

export interface StreamHead {
  readonly lastSeq: number;
  /** Changes only when the resource's history was lost or reset (SPEC §5). */
  readonly epoch: string;
  /** Lowest seq still readable (1 unless history was trimmed). */
  readonly firstSeq: number;
}

export interface AppendEntry {
  readonly ref: ResourceRef;
  readonly event: StoredEvent;
  /** `event.payload` already serialized: a log that stores JSON uses it rather than serializing again. */
  readonly json?: string;
}

export interface EventLog {
  /** Current head; creates the stream (and its epoch) on first use. */
  head(ref: ResourceRef): Promise<StreamHead>;
  /**
   * Appends entries (possibly of several resources) durably and atomically.
   * Each entry's seq must be exactly the resource's lastSeq + 1 at that point;
   * otherwise the whole batch is refused with LogConflictError (a stale owner).
   */
  append(entries: readonly AppendEntry[]): Promise<void>;
  /** Events with seq > afterSeq, ascending, at most `limit`. */
  read(ref: ResourceRef, afterSeq: number, limit: number): Promise<StoredEvent[]>;
  findByDedupeKey(ref: ResourceRef, key: string): Promise<StoredEvent | undefined>;
  close(): Promise<void>;
}

export class LogConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LogConflictError";
  }
}

/** The log's backing store is unreachable: callers answer 503, never ack. */
export class LogUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "LogUnavailableError";
  }
}

import { randomFillSync } from "node:crypto";

// The dataset/audit events port (SPEC §4 "Dataset / audit events"). Types and interface only;
// implementations: memory.ts, firestore.ts, bigquery.ts, and the local spool (spool.ts).

export interface DatasetEvent {
  /** Time-ordered (see newEventId): list order and cursors are eventId order on every backend. */
  readonly eventId: string;
  readonly tenantId: string;
  readonly type: string;
  readonly dataset: string;
  readonly payload: Record<string, unknown>;
  readonly occurredAt: string;
  readonly receivedAt: string;
  readonly actor?: string;
}

export interface DatasetQuery {
  readonly dataset?: string;
  /** Cursor: the eventId of the last item of the previous page. */
  readonly after?: string;
  readonly limit: number;
}

export interface DatasetPage {
  readonly items: DatasetEvent[];
  readonly nextCursor: string | null;
}

export interface SinkHealth {
  readonly ok: boolean;
  readonly backend: string;
  readonly detail?: string;
}

export type SinkKind = "memory" | "firestore" | "bigquery" | "spool";

export interface DatasetSink {
  readonly backend: SinkKind;
  /** Idempotent by eventId: writing an event twice stores it once. */
  write(events: readonly DatasetEvent[]): Promise<void>;
  list(tenantId: string, q: DatasetQuery): Promise<DatasetPage>;
  health(): Promise<SinkHealth>;
  /** Releases what the sink opened itself (never an injected client). */
  close(): Promise<void>;
}

/**
 * A write failure, already translated from the SDK's. `retryable` false only when retrying the
 * same rows can never succeed; `rejected` names rows refused for their own content (the rest
 * of the batch may be retried).
 */
export class SinkError extends Error {
  readonly retryable: boolean;
  readonly rejected: ReadonlyMap<string, string>;

  constructor(message: string, opts: { retryable: boolean; rejected?: ReadonlyMap<string, string>; cause?: unknown }) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = "SinkError";
    this.retryable = opts.retryable;
    this.rejected = opts.rejected ?? new Map();
  }
}

// ev_ + 10 base36 digits of ms + 4 base36 digits of a per-process counter + 8 random chars.
// Fixed widths make string order equal time order (within one process, accept order), which
// lets every backend order and page by document id alone.
let lastMs = 0;
let counter = 0;
export function newEventId(now: Date): string {
  let ms = now.getTime();
  if (ms <= lastMs) {
    ms = lastMs; // never go backwards, even if the clock does
    counter++;
  } else {
    lastMs = ms;
    counter = 0;
  }
  if (counter >= 36 ** 4) {
    lastMs = ms = ms + 1; // 1.6 M ids in one ms: borrow the next ms
    counter = 0;
  }
  return `ev_${ms.toString(36).padStart(10, "0")}${counter.toString(36).padStart(4, "0")}${randomSuffix()}`;
}

// The random part of event ids, drawn 256 at a time: a randomBytes call per id was ~10 % of the
// supervisor's time while it audited ~6,000 HTTP publishes/s.
const SUFFIX_BYTES = 6;
const pool = Buffer.alloc(SUFFIX_BYTES * 256);
let poolAt = pool.length;
function randomSuffix(): string {
  if (poolAt === pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  poolAt += SUFFIX_BYTES;
  return pool.toString("base64url", poolAt - SUFFIX_BYTES, poolAt);
}

export const EVENT_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

/** Shared page cut: `rows` sorted by eventId, fetched with limit + 1. */
export function pageOf(rows: DatasetEvent[], limit: number): DatasetPage {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last ? last.eventId : null };
}

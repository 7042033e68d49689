import { randomBytes } from "node:crypto";
import type { Transaction } from "better-sqlite3";
import type { Db } from "../embedded/db.js";
import { resourceKey, type ResourceRef } from "../registry/ids.js";
import { LogConflictError, LogUnavailableError, type AppendEntry, type EventLog, type StoredEvent, type StreamHead } from "./event-log.js";

interface EventRow { seq: number; dedupe_key: string | null; body_hash: string; payload: string; ts: number }
interface StreamRow { sid: number; epoch: string }

const toEvent = (r: EventRow): StoredEvent => ({
  seq: r.seq,
  dedupeKey: r.dedupe_key,
  bodyHash: r.body_hash,
  payload: JSON.parse(r.payload) as Record<string, unknown>,
  ts: r.ts,
});

export const newEpoch = (): string => randomBytes(6).toString("base64url");

/** EventLog on the embedded SQLite store. One call to append is one transaction (one fsync). */
export class SqliteEventLog implements EventLog {
  private readonly stmts;
  private readonly appendTx: Transaction<(entries: readonly AppendEntry[]) => void>;
  /** rkey → stream id; a stream row is never deleted, so the mapping never changes. */
  private readonly sids = new Map<string, number>();

  constructor(private readonly db: Db, private readonly ownsDb = false) {
    this.stmts = {
      head: db.prepare<[string], StreamRow>("SELECT sid, epoch FROM streams WHERE rkey = ?"),
      createStream: db.prepare("INSERT OR IGNORE INTO streams (rkey, epoch) VALUES (?, ?)"),
      lastSeq: db.prepare<[number], { last: number | null }>("SELECT MAX(seq) AS last FROM events WHERE sid = ?"),
      insert: db.prepare("INSERT INTO events (sid, seq, dedupe_key, body_hash, payload, ts) VALUES (?, ?, ?, ?, ?, ?)"),
      read: db.prepare<[number, number, number], EventRow>(
        "SELECT seq, dedupe_key, body_hash, payload, ts FROM events WHERE sid = ? AND seq > ? ORDER BY seq LIMIT ?",
      ),
      byKey: db.prepare<[number, string], EventRow>("SELECT seq, dedupe_key, body_hash, payload, ts FROM events WHERE sid = ? AND dedupe_key = ?"),
    };
    this.appendTx = db.transaction((entries: readonly AppendEntry[]) => {
      // One compare-and-set per resource per batch (not per event): the run of seqs for a
      // resource must start right after its last_seq and be contiguous.
      for (const [rkey, events] of groupByResource(entries)) {
        const first = (events[0] as StoredEvent).seq;
        events.forEach((e, i) => {
          if (e.seq !== first + i) throw new LogConflictError(`${rkey}: seq ${e.seq} is not next`);
        });
        const sid = this.sids.get(rkey) ?? this.stream(rkey).sid;
        // The compare-and-set on the head refuses a stale owner instead of interleaving; the
        // transaction is IMMEDIATE, so no other writer can move the head between check and insert.
        if ((this.stmts.lastSeq.get(sid)?.last ?? 0) !== first - 1) {
          throw new LogConflictError(`${rkey}: seq ${first} is not next`);
        }
        for (const e of events) this.stmts.insert.run(sid, e.seq, e.dedupeKey, e.bodyHash, JSON.stringify(e.payload), e.ts);
      }
    });
  }

  /** The stream's row, created (with a fresh epoch) on first use. */
  private stream(rkey: string): StreamRow {
    let row = this.stmts.head.get(rkey);
    if (!row) {
      this.stmts.createStream.run(rkey, newEpoch());
      row = this.stmts.head.get(rkey);
    }
    if (!row) throw new Error(`stream ${rkey} vanished`);
    this.sids.set(rkey, row.sid);
    return row;
  }

  /** The stream id for reads; undefined when the stream was never created (nothing to read). */
  private sidOf(rkey: string): number | undefined {
    const cached = this.sids.get(rkey);
    if (cached !== undefined) return cached;
    const row = this.stmts.head.get(rkey);
    if (row) this.sids.set(rkey, row.sid);
    return row?.sid;
  }

  async head(ref: ResourceRef): Promise<StreamHead> {
    const row = this.stream(resourceKey(ref));
    return { lastSeq: this.stmts.lastSeq.get(row.sid)?.last ?? 0, epoch: row.epoch, firstSeq: 1 };
  }

  async append(entries: readonly AppendEntry[]): Promise<void> {
    if (entries.length === 0) return;
    try {
      this.appendTx.immediate(entries);
    } catch (e) {
      if (e instanceof LogConflictError) throw e;
      const code = (e as { code?: unknown }).code;
      if (code === "SQLITE_CONSTRAINT_PRIMARYKEY" || code === "SQLITE_CONSTRAINT_UNIQUE") {
        throw new LogConflictError(`append refused: ${(e as Error).message}`);
      }
      if (typeof code === "string" && /^SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN)/.test(code)) {
        throw new LogUnavailableError(`event store unavailable: ${code}`, { cause: e });
      }
      throw e;
    }
  }

  async read(ref: ResourceRef, afterSeq: number, limit: number): Promise<StoredEvent[]> {
    const sid = this.sidOf(resourceKey(ref));
    return sid === undefined ? [] : this.stmts.read.all(sid, afterSeq, limit).map(toEvent);
  }

  async findByDedupeKey(ref: ResourceRef, key: string): Promise<StoredEvent | undefined> {
    const sid = this.sidOf(resourceKey(ref));
    const row = sid === undefined ? undefined : this.stmts.byKey.get(sid, key);
    return row ? toEvent(row) : undefined;
  }

  async close(): Promise<void> {
    if (this.ownsDb && this.db.open) this.db.close();
  }
}

function groupByResource(entries: readonly AppendEntry[]): Map<string, StoredEvent[]> {
  const groups = new Map<string, StoredEvent[]>();
  for (const { ref, event } of entries) {
    const rkey = resourceKey(ref);
    const g = groups.get(rkey);
    if (g) g.push(event);
    else groups.set(rkey, [event]);
  }
  return groups;
}

import { randomBytes } from "node:crypto";
import type { Db } from "../embedded/db.js";
import { resourceKey, type ResourceRef } from "../registry/ids.js";
import { LogConflictError, LogUnavailableError, type AppendEntry, type EventLog, type StoredEvent, type StreamHead } from "./event-log.js";

interface EventRow { seq: number; dedupe_key: string | null; body_hash: string; payload: string; ts: number }

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
  private readonly appendTx: (entries: readonly AppendEntry[]) => void;

  constructor(private readonly db: Db, private readonly ownsDb = false) {
    this.stmts = {
      head: db.prepare<[string], { epoch: string; last_seq: number }>("SELECT epoch, last_seq FROM streams WHERE rkey = ?"),
      createStream: db.prepare("INSERT OR IGNORE INTO streams (rkey, epoch, last_seq) VALUES (?, ?, 0)"),
      advance: db.prepare("UPDATE streams SET last_seq = ? WHERE rkey = ? AND last_seq = ?"),
      insert: db.prepare("INSERT INTO events (rkey, seq, dedupe_key, body_hash, payload, ts) VALUES (?, ?, ?, ?, ?, ?)"),
      read: db.prepare<[string, number, number], EventRow>(
        "SELECT seq, dedupe_key, body_hash, payload, ts FROM events WHERE rkey = ? AND seq > ? ORDER BY seq LIMIT ?",
      ),
      byKey: db.prepare<[string, string], EventRow>(
        "SELECT seq, dedupe_key, body_hash, payload, ts FROM events WHERE rkey = ? AND dedupe_key = ?",
      ),
    };
    this.appendTx = db.transaction((entries: readonly AppendEntry[]) => {
      for (const { ref, event } of entries) {
        const rkey = resourceKey(ref);
        this.stmts.createStream.run(rkey, newEpoch());
        // The compare-and-set on last_seq refuses a stale owner instead of interleaving.
        if (this.stmts.advance.run(event.seq, rkey, event.seq - 1).changes !== 1) {
          throw new LogConflictError(`${rkey}: seq ${event.seq} is not next`);
        }
        this.stmts.insert.run(rkey, event.seq, event.dedupeKey, event.bodyHash, JSON.stringify(event.payload), event.ts);
      }
    });
  }

  async head(ref: ResourceRef): Promise<StreamHead> {
    const rkey = resourceKey(ref);
    let row = this.stmts.head.get(rkey);
    if (!row) {
      this.stmts.createStream.run(rkey, newEpoch());
      row = this.stmts.head.get(rkey);
    }
    if (!row) throw new Error(`stream ${rkey} vanished`);
    return { lastSeq: row.last_seq, epoch: row.epoch, firstSeq: 1 };
  }

  async append(entries: readonly AppendEntry[]): Promise<void> {
    if (entries.length === 0) return;
    try {
      this.appendTx(entries);
    } catch (e) {
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
    return this.stmts.read.all(resourceKey(ref), afterSeq, limit).map(toEvent);
  }

  async findByDedupeKey(ref: ResourceRef, key: string): Promise<StoredEvent | undefined> {
    const row = this.stmts.byKey.get(resourceKey(ref), key);
    return row ? toEvent(row) : undefined;
  }

  async close(): Promise<void> {
    if (this.ownsDb && this.db.open) this.db.close();
  }
}

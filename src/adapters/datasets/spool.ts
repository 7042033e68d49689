import { mkdirSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { pageOf, type DatasetEvent, type DatasetPage, type DatasetQuery, type DatasetSink, type SinkHealth } from "./datasets.js";

export const SPOOL_FILE = "datasets-spool.db";

// The durable local spool: accepted events, in accept order, in a SQLite file under DATA_DIR.
// synchronous=FULL makes each committed append survive kill -9 and power loss, which is what
// lets POST /logging/events answer 202 while Firestore/BigQuery are down. The drainer removes
// rows only after the real backend confirmed them. Rows the backend refuses for their content
// move to `dead` (kept, counted, logged) instead of blocking the queue forever.
export class DatasetSpool implements DatasetSink {
  readonly backend = "spool" as const;
  private readonly db: Database.Database;
  private readonly stmts;

  constructor(dataDir: string, file = SPOOL_FILE) {
    mkdirSync(dataDir, { recursive: true });
    this.db = new Database(join(dataDir, file));
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = FULL");
    this.db.pragma("busy_timeout = 5000");
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS spool (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        event_id TEXT NOT NULL UNIQUE,
        tenant_id TEXT NOT NULL,
        dataset TEXT NOT NULL,
        body TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS spool_tenant ON spool (tenant_id, event_id);
      CREATE TABLE IF NOT EXISTS dead (
        event_id TEXT PRIMARY KEY,
        body TEXT NOT NULL,
        reason TEXT NOT NULL,
        at TEXT NOT NULL
      );`);
    this.stmts = {
      insert: this.db.prepare("INSERT OR IGNORE INTO spool (event_id, tenant_id, dataset, body) VALUES (?, ?, ?, ?)"),
      peek: this.db.prepare("SELECT body FROM spool ORDER BY seq LIMIT ?").pluck(),
      remove: this.db.prepare("DELETE FROM spool WHERE event_id = ?"),
      depth: this.db.prepare("SELECT COUNT(*) FROM spool").pluck(),
      bury: this.db.prepare("INSERT OR REPLACE INTO dead (event_id, body, reason, at) SELECT event_id, body, ?, ? FROM spool WHERE event_id = ?"),
      deadCount: this.db.prepare("SELECT COUNT(*) FROM dead").pluck(),
      list: this.db.prepare(
        "SELECT body FROM spool WHERE tenant_id = @tenant AND (@dataset IS NULL OR dataset = @dataset) AND event_id > @after ORDER BY event_id LIMIT @limit",
      ).pluck(),
    };
  }

  /** Durable on return (one fsynced transaction). Re-appending a spooled eventId is a no-op. */
  append(events: readonly DatasetEvent[]): void {
    this.db.transaction(() => {
      for (const e of events) this.stmts.insert.run(e.eventId, e.tenantId, e.dataset, JSON.stringify(e));
    })();
  }

  /** The oldest spooled events, in accept order. */
  peek(limit: number): DatasetEvent[] {
    return (this.stmts.peek.all(limit) as string[]).map((b) => JSON.parse(b) as DatasetEvent);
  }

  remove(eventIds: readonly string[]): void {
    this.db.transaction(() => {
      for (const id of eventIds) this.stmts.remove.run(id);
    })();
  }

  /** Moves events the backend will never accept out of the queue, keeping them for an operator. */
  bury(rejected: ReadonlyMap<string, string>, now: Date): void {
    this.db.transaction(() => {
      for (const [id, reason] of rejected) {
        this.stmts.bury.run(reason, now.toISOString(), id);
        this.stmts.remove.run(id);
      }
    })();
  }

  depth(): number {
    return this.stmts.depth.get() as number;
  }

  deadCount(): number {
    return this.stmts.deadCount.get() as number;
  }

  // DatasetSink, so the spool alone can serve when no real backend is configured at all.
  async write(events: readonly DatasetEvent[]): Promise<void> {
    this.append(events);
  }

  async list(tenantId: string, q: DatasetQuery): Promise<DatasetPage> {
    const rows = this.stmts.list.all({ tenant: tenantId, dataset: q.dataset ?? null, after: q.after ?? "", limit: q.limit + 1 }) as string[];
    return pageOf(rows.map((b) => JSON.parse(b) as DatasetEvent), q.limit);
  }

  async health(): Promise<SinkHealth> {
    return { ok: this.db.open, backend: "spool" };
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

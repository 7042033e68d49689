import { mkdirSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";

export type Db = Database.Database;

// The embedded durable store: SQLite files in WAL mode (the registry in
// switchyard.db, the event log in one file per shard). synchronous=FULL
// makes every committed transaction survive power loss and kill -9, which is
// the promise behind every 201/202/ack. Several threads open their own
// connection; SQLite serialises writers and busy_timeout makes them queue.
// Events are stored in append order (a sequential rowid) with small integer
// indexes over (stream, seq) and (stream, dedupe key): a group commit then
// touches few pages, where keying rows by the text resource key scattered
// every batch over the whole B-tree (measured: ~2x the commit cost).
/** The event log: one set per shard file (`log-<n>.db`), or in the shared file of a cluster. */
const LOG_MIGRATIONS = [
  // A stream row is written once (its epoch); its head is MAX(seq) from the events index,
  // so a commit does not also rewrite one scattered streams page per resource.
  `CREATE TABLE IF NOT EXISTS streams (
     sid INTEGER PRIMARY KEY,
     rkey TEXT NOT NULL UNIQUE,
     epoch TEXT NOT NULL
   )`,
  `CREATE TABLE IF NOT EXISTS events (
     id INTEGER PRIMARY KEY,
     sid INTEGER NOT NULL,
     seq INTEGER NOT NULL,
     dedupe_key TEXT,
     body_hash TEXT NOT NULL,
     payload TEXT NOT NULL,
     ts INTEGER NOT NULL
   )`,
  `CREATE UNIQUE INDEX IF NOT EXISTS events_seq ON events (sid, seq)`,
  `CREATE UNIQUE INDEX IF NOT EXISTS events_dedupe ON events (sid, dedupe_key) WHERE dedupe_key IS NOT NULL`,
];

/** The resource registry: `switchyard.db` (and the shared file of a cluster). */
const REGISTRY_MIGRATIONS = [
  `CREATE TABLE IF NOT EXISTS resources (
     tenant TEXT NOT NULL,
     kind TEXT NOT NULL,
     id TEXT NOT NULL,
     created_by TEXT NOT NULL,
     created_at TEXT NOT NULL,
     title TEXT,
     metadata TEXT,
     PRIMARY KEY (tenant, kind, id)
   ) WITHOUT ROWID`,
];

/** What a file holds: the registry, one event log shard, or both (the shared file of a cluster). */
export type DbSchema = "registry" | "log" | "all";

const MIGRATIONS: Record<DbSchema, readonly string[]> = {
  registry: REGISTRY_MIGRATIONS,
  log: LOG_MIGRATIONS,
  all: [...LOG_MIGRATIONS, ...REGISTRY_MIGRATIONS],
};

export const DB_FILE = "switchyard.db";

/**
 * Opens (creating) a store file with the tables `schema` needs. Files written
 * before the split may carry the other kind's tables, empty; they stay.
 */
export function openDb(dataDir: string, file: string, schema: DbSchema): Db {
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(join(dataDir, file), { timeout: BUSY_TIMEOUT_MS });
  // Nodes sharing a dir (CLUSTER_SHARED_DIR) open a new file together. Switching it to WAL and
  // creating its tables can then fail with SQLITE_BUSY at once, without waiting: SQLite refuses
  // a lock upgrade that could deadlock. Both steps are idempotent, so they are retried.
  retryBusy(() => {
    db.pragma("journal_mode = WAL");
    for (const sql of MIGRATIONS[schema]) db.exec(sql);
  });
  db.pragma("synchronous = FULL");
  // Fewer, larger checkpoints: each one fsyncs the database file on the committing thread.
  db.pragma("wal_autocheckpoint = 10000");
  return db;
}

const BUSY_TIMEOUT_MS = 10_000;

/** Runs `step` until it does not fail with SQLITE_BUSY, for at most BUSY_TIMEOUT_MS (start-up only: it blocks). */
function retryBusy(step: () => void): void {
  const deadline = Date.now() + BUSY_TIMEOUT_MS;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      return step();
    } catch (e) {
      if ((e as { code?: unknown }).code !== "SQLITE_BUSY" || Date.now() >= deadline) throw e;
      Atomics.wait(pause, 0, 0, 5 + Math.random() * 20);
    }
  }
}

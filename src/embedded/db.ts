import { mkdirSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";

export type Db = Database.Database;

// The embedded durable store: one SQLite file in WAL mode. synchronous=FULL
// makes every committed transaction survive power loss and kill -9, which is
// the promise behind every 201/202/ack. Several threads open their own
// connection; SQLite serialises writers and busy_timeout makes them queue.
const MIGRATIONS = [
  `CREATE TABLE IF NOT EXISTS streams (
     rkey TEXT PRIMARY KEY,
     epoch TEXT NOT NULL,
     last_seq INTEGER NOT NULL
   ) WITHOUT ROWID`,
  `CREATE TABLE IF NOT EXISTS events (
     rkey TEXT NOT NULL,
     seq INTEGER NOT NULL,
     dedupe_key TEXT,
     body_hash TEXT NOT NULL,
     payload TEXT NOT NULL,
     ts INTEGER NOT NULL,
     PRIMARY KEY (rkey, seq)
   ) WITHOUT ROWID`,
  `CREATE UNIQUE INDEX IF NOT EXISTS events_dedupe ON events (rkey, dedupe_key) WHERE dedupe_key IS NOT NULL`,
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

export const DB_FILE = "switchyard.db";

export function openDb(dataDir: string, file = DB_FILE): Db {
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(join(dataDir, file));
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  db.pragma("busy_timeout = 10000");
  for (const sql of MIGRATIONS) db.exec(sql);
  return db;
}

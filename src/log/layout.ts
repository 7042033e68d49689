import { existsSync, fsyncSync, openSync, closeSync, readFileSync, renameSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { z } from "zod";
import { DB_FILE } from "../embedded/db.js";

// Which SQLite files hold a data dir's event log. Every shard is written by
// exactly one actor worker, so workers never queue for one file's write lock
// (measured with two workers on one shared file: -20 % acks/s, and SQLite's
// busy handler sleeps 1-25 ms while another worker's commit holds the lock).
// A resource's shard is a hash of its key modulo the shard count, so the
// count is fixed when the directory is first used and kept in LAYOUT_FILE;
// ACTOR_WORKERS may change between starts (worker w owns shards s ≡ w mod workers).

export const LAYOUT_FILE = "event-log.json";

const layoutSchema = z.object({
  version: z.literal(1),
  shards: z.array(z.string().regex(/^[A-Za-z0-9_.-]+\.db$/)).min(1).max(64),
});
export type LogLayout = z.infer<typeof layoutSchema>;

export class LayoutError extends Error {}

/** The layout of an existing data dir; undefined when none was written yet. */
export function readLogLayout(dataDir: string): LogLayout | undefined {
  const path = join(dataDir, LAYOUT_FILE);
  if (!existsSync(path)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new LayoutError(`${path} is not valid JSON: ${(e as Error).message}`);
  }
  const parsed = layoutSchema.safeParse(raw);
  if (!parsed.success) throw new LayoutError(`${path} is not an event log layout: ${parsed.error.issues[0]?.message ?? "invalid"}`);
  return parsed.data;
}

/**
 * The data dir's layout, created on first use with `shards` files. A dir
 * whose events predate shards (rows in switchyard.db, no layout file) keeps
 * them there as its single shard: nothing written before is left behind.
 */
export function openLogLayout(dataDir: string, shards: number): LogLayout {
  const existing = readLogLayout(dataDir);
  if (existing) return existing;
  mkdirSync(dataDir, { recursive: true });
  const layout: LogLayout = hasLegacyEvents(dataDir)
    ? { version: 1, shards: [DB_FILE] }
    : { version: 1, shards: Array.from({ length: shards }, (_, i) => `log-${i}.db`) };
  writeDurably(join(dataDir, LAYOUT_FILE), `${JSON.stringify(layout)}\n`);
  return layout;
}

function hasLegacyEvents(dataDir: string): boolean {
  const path = join(dataDir, DB_FILE);
  if (!existsSync(path)) return false;
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events'").get();
    return table !== undefined && db.prepare("SELECT 1 FROM events LIMIT 1").get() !== undefined;
  } finally {
    db.close();
  }
}

/** Written to a temporary name, fsynced, renamed, and the directory fsynced: a crash leaves the old state or the new one. */
function writeDurably(path: string, text: string): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, text);
  const fd = openSync(tmp, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  const dir = openSync(join(path, ".."), "r");
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

/** The shards actor worker `worker` of `workers` writes. */
export function ownedShards(shardCount: number, worker: number, workers: number): number[] {
  const owned: number[] = [];
  for (let s = worker; s < shardCount; s += workers) owned.push(s);
  return owned;
}

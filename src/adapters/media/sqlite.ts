import { mkdirSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { AppError } from "../../errors/index.js";
import type { MediaAsset, MediaListOptions, MediaPage, MediaRepository } from "./media.js";
import { parseCursor } from "./memory.js";
import { parseStoredMedia } from "./schema.js";

// Media assets in their own SQLite file (not the event-log database, so media
// writes never queue behind event appends). WAL + synchronous=FULL: a create
// that resolved survives kill -9 and power loss, which is what the 201 promises.
// better-sqlite3 is synchronous; each call is one short indexed statement.

export const MEDIA_DB_FILE = "media.db";

const SCHEMA = `CREATE TABLE IF NOT EXISTS media_assets (
  pos INTEGER PRIMARY KEY AUTOINCREMENT, -- creation order and list cursor
  tenant TEXT NOT NULL,
  id TEXT NOT NULL,
  body TEXT NOT NULL,
  UNIQUE (tenant, id)
)`;

export class SqliteMedia implements MediaRepository {
  readonly kind = "sqlite" as const;
  private readonly db: Database.Database;
  private readonly path: string;
  private readonly insert: Database.Statement<[number | null, string, string, string]>;
  private readonly selectOne: Database.Statement<[string, string], { body: string }>;
  private readonly selectPage: Database.Statement<[string, number, number], { pos: number; body: string }>;

  constructor(opts: { dir: string; file?: string }) {
    mkdirSync(opts.dir, { recursive: true });
    this.path = join(opts.dir, opts.file ?? MEDIA_DB_FILE);
    this.db = new Database(this.path);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = FULL");
    this.db.pragma("busy_timeout = 5000");
    this.db.exec(SCHEMA);
    this.insert = this.db.prepare("INSERT INTO media_assets (pos, tenant, id, body) VALUES (?, ?, ?, ?)");
    this.selectOne = this.db.prepare("SELECT body FROM media_assets WHERE tenant = ? AND id = ?");
    this.selectPage = this.db.prepare(
      "SELECT pos, body FROM media_assets WHERE tenant = ? AND pos > ? ORDER BY pos LIMIT ?",
    );
  }

  async create(asset: MediaAsset): Promise<void> {
    try {
      this.insert.run(null, asset.tenantId, asset.id, JSON.stringify(asset));
    } catch (e) {
      if (sqliteCode(e) === "SQLITE_CONSTRAINT_UNIQUE") throw new AppError("ERR_CONFLICT", { message: "The media asset already exists", cause: e });
      throw translate(e, "create");
    }
  }

  async get(tenantId: string, id: string): Promise<MediaAsset | undefined> {
    const row = this.run(() => this.selectOne.get(tenantId, id), "get");
    return row && parseStoredMedia(JSON.parse(row.body));
  }

  async list(tenantId: string, opts: MediaListOptions): Promise<MediaPage> {
    const after = parseCursor(opts.cursor);
    // One row more than asked tells whether a next page exists.
    const rows = this.run(() => this.selectPage.all(tenantId, after, opts.limit + 1), "list");
    const page = rows.slice(0, opts.limit);
    const last = page[page.length - 1];
    return {
      items: page.map((r) => parseStoredMedia(JSON.parse(r.body))),
      nextCursor: rows.length > opts.limit && last ? String(last.pos) : null,
    };
  }

  describe(): string {
    return `sqlite (${this.path})`;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  private run<T>(fn: () => T, op: string): T {
    try {
      return fn();
    } catch (e) {
      throw translate(e, op);
    }
  }
}

const sqliteCode = (e: unknown): string | undefined =>
  typeof e === "object" && e !== null && typeof (e as { code?: unknown }).code === "string" ? (e as { code: string }).code : undefined;

/** Busy, full or failing disk, or a closed handle: the store is unusable now (503); anything else is a bug (500). */
function translate(e: unknown, op: string): AppError {
  const code = sqliteCode(e) ?? "";
  const closed = e instanceof TypeError && /not open/.test(e.message);
  if (closed || /^SQLITE_(BUSY|LOCKED|FULL|IOERR|CANTOPEN|READONLY)/.test(code)) {
    return new AppError("ERR_NOT_READY", { message: `Media store unavailable (${op})`, retryAfterS: 1, cause: e });
  }
  return new AppError("ERR_INTERNAL", { message: `Media store ${op} failed`, cause: e });
}

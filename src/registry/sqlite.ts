import type { Db } from "../embedded/db.js";
import type { ResourceKind, ResourceRef } from "./ids.js";
import type { Page, RegisterInput, Registry, ResourceRecord } from "./registry.js";

interface Row { tenant: string; kind: string; id: string; created_by: string; created_at: string; title: string | null; metadata: string | null }

const toRecord = (r: Row): ResourceRecord => ({
  tenant: r.tenant,
  kind: r.kind as ResourceKind,
  id: r.id,
  createdBy: r.created_by,
  createdAt: r.created_at,
  title: r.title,
  metadata: r.metadata === null ? null : (JSON.parse(r.metadata) as Record<string, unknown>),
});

export class SqliteRegistry implements Registry {
  private readonly stmts;

  constructor(db: Db, private readonly now: () => Date = () => new Date()) {
    this.stmts = {
      insert: db.prepare(
        "INSERT OR IGNORE INTO resources (tenant, kind, id, created_by, created_at, title, metadata) VALUES (?, ?, ?, ?, ?, ?, ?)",
      ),
      get: db.prepare<[string, string, string], Row>("SELECT * FROM resources WHERE tenant = ? AND kind = ? AND id = ?"),
      list: db.prepare<[string, string, string, number], Row>(
        "SELECT * FROM resources WHERE tenant = ? AND kind = ? AND id > ? ORDER BY id LIMIT ?",
      ),
    };
  }

  async register(ref: ResourceRef, input: RegisterInput): Promise<{ record: ResourceRecord; created: boolean }> {
    const created =
      this.stmts.insert.run(
        ref.tenant, ref.kind, ref.id, input.createdBy, this.now().toISOString(),
        input.title ?? null, input.metadata == null ? null : JSON.stringify(input.metadata),
      ).changes === 1;
    const row = this.stmts.get.get(ref.tenant, ref.kind, ref.id);
    if (!row) throw new Error("registry row missing right after insert");
    return { record: toRecord(row), created };
  }

  async get(ref: ResourceRef): Promise<ResourceRecord | undefined> {
    const row = this.stmts.get.get(ref.tenant, ref.kind, ref.id);
    return row ? toRecord(row) : undefined;
  }

  async list(tenant: string, kind: ResourceKind, opts: { limit: number; cursor?: string | undefined }): Promise<Page<ResourceRecord>> {
    const rows = this.stmts.list.all(tenant, kind, opts.cursor ?? "", opts.limit + 1);
    const items = rows.slice(0, opts.limit).map(toRecord);
    const last = items.at(-1);
    return { items, nextCursor: rows.length > opts.limit && last ? last.id : null };
  }

  async close(): Promise<void> {}
}

import { AppError } from "../../errors/index.js";
import { MemoryBound } from "../memory-bound.js";
import { CURSOR_PATTERN, type MediaAsset, type MediaListOptions, type MediaPage, type MediaRepository } from "./media.js";

interface Row {
  readonly pos: number;
  readonly asset: MediaAsset;
}

/**
 * Complete, deterministic MediaRepository in process memory; gone with the
 * process. Holds at most `maxAssets` (MEDIA_MEMORY_MAX_ASSETS) across tenants.
 */
export class MemoryMedia implements MediaRepository {
  readonly kind = "memory" as const;
  private readonly tenants = new Map<string, { rows: Row[]; byId: Map<string, Row> }>();
  private pos = 0;
  private readonly bound: MemoryBound;

  constructor(opts: { maxAssets?: number } = {}) {
    this.bound = new MemoryBound(opts.maxAssets ?? Number.POSITIVE_INFINITY, "MEDIA_MEMORY_MAX_ASSETS", "MEDIA_BACKEND=sqlite");
  }

  async create(asset: MediaAsset): Promise<void> {
    let t = this.tenants.get(asset.tenantId);
    if (!t) this.tenants.set(asset.tenantId, (t = { rows: [], byId: new Map() }));
    if (t.byId.has(asset.id)) throw new AppError("ERR_CONFLICT", { message: "The media asset already exists" });
    this.bound.take();
    const row = { pos: ++this.pos, asset: structuredClone(asset) };
    t.rows.push(row); // appended in increasing pos, so rows stay sorted
    t.byId.set(asset.id, row);
  }

  async get(tenantId: string, id: string): Promise<MediaAsset | undefined> {
    const row = this.tenants.get(tenantId)?.byId.get(id);
    return row && structuredClone(row.asset);
  }

  async list(tenantId: string, opts: MediaListOptions): Promise<MediaPage> {
    const after = parseCursor(opts.cursor);
    const rows = this.tenants.get(tenantId)?.rows ?? [];
    const rest = rows.filter((r) => r.pos > after);
    const page = rest.slice(0, opts.limit);
    const last = page[page.length - 1];
    return {
      items: page.map((r) => structuredClone(r.asset)),
      nextCursor: rest.length > opts.limit && last ? String(last.pos) : null,
    };
  }

  describe(): string {
    return "memory (not durable)";
  }

  async close(): Promise<void> {}
}

/** Shared by the implementations: absent → 0, malformed → 400. */
export function parseCursor(cursor: string | undefined): number {
  if (cursor === undefined) return 0;
  if (!CURSOR_PATTERN.test(cursor)) throw new AppError("ERR_INVALID_REQUEST", { message: "invalid cursor" });
  return Number(cursor);
}

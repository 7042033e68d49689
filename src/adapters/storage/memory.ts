import { AppError } from "../../errors/index.js";
import { isValidId } from "../../registry/ids.js";
import { MemoryBound } from "../memory-bound.js";
import { contentKey, validIds } from "./keys.js";
import type { ListOptions, Page, PresignedUpload, RawAsset, RawStorage, StorageHealth } from "./storage.js";

/**
 * Complete, deterministic RawStorage in process memory (dev and tests). Data
 * dies with the process, which is why the factory never picks it on its own
 * when S3 was asked for. The presigned URL is a `memory://` url: nothing can
 * PUT to it, it only carries the key and the expiry. It holds at most
 * `maxAssets` (RAW_MEMORY_MAX_ASSETS) across tenants: past that a register is
 * refused rather than an asset already handed out being dropped.
 */
export class MemoryStorage implements RawStorage {
  readonly kind = "memory" as const;
  private readonly tenants = new Map<string, Map<string, RawAsset>>();
  private readonly now: () => number;
  private readonly bound: MemoryBound;

  constructor(opts: { now?: () => number; maxAssets?: number } = {}) {
    this.now = opts.now ?? Date.now;
    this.bound = new MemoryBound(opts.maxAssets ?? Number.POSITIVE_INFINITY, "RAW_MEMORY_MAX_ASSETS", "RAW_STORAGE_BACKEND=s3");
  }

  uriFor(tenantId: string, assetId: string, safeFilename: string): string {
    return `memory://${contentKey(tenantId, assetId, safeFilename)}`;
  }

  async createMetadata(asset: RawAsset): Promise<void> {
    if (!validIds(asset.tenantId, asset.assetId)) throw new AppError("ERR_INVALID_REQUEST", { message: "invalid tenant or asset id" });
    let assets = this.tenants.get(asset.tenantId);
    if (!assets) this.tenants.set(asset.tenantId, (assets = new Map()));
    if (assets.has(asset.assetId)) throw new AppError("ERR_CONFLICT", { message: "The raw asset already exists" });
    this.bound.take();
    // A deep copy, so a caller mutating its object later cannot change what was "persisted".
    assets.set(asset.assetId, structuredClone(asset));
  }

  async getMetadata(tenantId: string, assetId: string): Promise<RawAsset | undefined> {
    if (!validIds(tenantId, assetId)) return undefined;
    const asset = this.tenants.get(tenantId)?.get(assetId);
    return asset && structuredClone(asset);
  }

  async listMetadata(tenantId: string, opts: ListOptions): Promise<Page<RawAsset>> {
    if (opts.cursor !== undefined && !isValidId(opts.cursor)) throw new AppError("ERR_INVALID_REQUEST", { message: "invalid cursor" });
    const assets = this.tenants.get(tenantId);
    if (!assets) return { items: [], nextCursor: null };
    // Ascending assetId, like an S3 listing (byte order equals code-unit order for ids).
    const ids = [...assets.keys()].filter((id) => opts.cursor === undefined || id > opts.cursor).sort();
    const page = ids.slice(0, opts.limit);
    const items = page.map((id) => structuredClone(assets.get(id)!)); // `!`: ids come from this map
    return { items, nextCursor: ids.length > opts.limit ? page[page.length - 1]! : null };
  }

  async presignUpload(asset: RawAsset, ttlS: number): Promise<PresignedUpload> {
    const expiresAt = new Date(this.now() + ttlS * 1000).toISOString();
    const key = contentKey(asset.tenantId, asset.assetId, encodeURIComponent(asset.filename));
    return { method: "PUT", url: `memory://${key}?expires=${encodeURIComponent(expiresAt)}`, expiresAt };
  }

  async health(): Promise<StorageHealth> {
    return { ok: true, detail: "memory (not durable)" };
  }

  describe(): string {
    return "memory (not durable)";
  }

  async close(): Promise<void> {}
}

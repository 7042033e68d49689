// The raw-storage port (SPEC §4 "Raw storage (nexus)"): value types and the
// interface only. Implementations: memory.ts (tests, dev), s3.ts (durable).

/** A registered raw asset as persisted and returned by GET (SPEC §4). */
export interface RawAsset {
  readonly assetId: string;
  readonly tenantId: string;
  /** `s3://<bucket>/tenants/<tenantId>/raw/<assetId>/<filename>` on S3. */
  readonly uri: string;
  /** The sanitised file name: always the last segment of `uri`. */
  readonly filename: string;
  readonly contentType: string;
  readonly bytes: number | null;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly createdBy: string;
  readonly createdAt: string;
  readonly status: "registered";
}

/** Where and until when the client may PUT the asset's content. */
export interface PresignedUpload {
  readonly method: "PUT";
  readonly url: string;
  readonly expiresAt: string;
}

export interface ListOptions {
  /** 1..500, already validated by the caller. */
  readonly limit: number;
  /** The `nextCursor` of the previous page (an asset id), or absent for the first page. */
  readonly cursor?: string | undefined;
}

export interface Page<T> {
  readonly items: T[];
  readonly nextCursor: string | null;
}

export interface StorageHealth {
  readonly ok: boolean;
  readonly detail: string;
}

/**
 * Metadata store plus upload signer for raw assets. Listing order is by
 * ascending assetId (the only order S3 can give without an index), so every
 * implementation pages the same way: `cursor` = the last assetId seen.
 * Methods throw AppError: ERR_CONFLICT (create of an existing asset),
 * ERR_NOT_READY (backend unreachable; never a silent fallback).
 */
export interface RawStorage {
  readonly kind: "memory" | "s3";
  /** The uri an asset will have; `safeFilename` must come from sanitizeFilename. */
  uriFor(tenantId: string, assetId: string, safeFilename: string): string;
  /** Create-only: durable before it resolves; ERR_CONFLICT if it exists. */
  createMetadata(asset: RawAsset): Promise<void>;
  getMetadata(tenantId: string, assetId: string): Promise<RawAsset | undefined>;
  listMetadata(tenantId: string, opts: ListOptions): Promise<Page<RawAsset>>;
  presignUpload(asset: RawAsset, ttlS: number): Promise<PresignedUpload>;
  health(): Promise<StorageHealth>;
  /** One line for /readyz, e.g. `s3 (bucket raw)`. */
  describe(): string;
  close(): Promise<void>;
}

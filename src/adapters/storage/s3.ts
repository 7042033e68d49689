import {
  GetObjectCommand, HeadBucketCommand, ListObjectsV2Command, PutObjectCommand, type S3Client,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { AppError } from "../../errors/index.js";
import { isValidId } from "../../registry/ids.js";
import { assetPrefix, contentKey, metaKey, parseRawAsset, rawPrefix, validIds } from "./keys.js";
import { errorNameOf, httpStatusOf, isPreconditionFailure, translateS3Error } from "./s3-errors.js";
import type { ListOptions, Page, PresignedUpload, RawAsset, RawStorage, StorageHealth } from "./storage.js";

// Raw assets on any S3 API (AWS, Ceph RGW). Metadata is one JSON object per
// asset next to its content, written create-only (`If-None-Match: *`), so the
// store itself refuses a second registration and there is no index to keep
// consistent: a listing is a prefix listing.

const LIST_FETCH_CONCURRENCY = 16;

export interface S3StorageOptions {
  readonly client: S3Client;
  readonly bucket: string;
  readonly now?: () => number;
}

export class S3Storage implements RawStorage {
  readonly kind = "s3" as const;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly now: () => number;

  constructor(opts: S3StorageOptions) {
    this.client = opts.client;
    this.bucket = opts.bucket;
    this.now = opts.now ?? Date.now;
  }

  uriFor(tenantId: string, assetId: string, safeFilename: string): string {
    return `s3://${this.bucket}/${contentKey(tenantId, assetId, safeFilename)}`;
  }

  async createMetadata(asset: RawAsset): Promise<void> {
    if (!validIds(asset.tenantId, asset.assetId)) throw new AppError("ERR_INVALID_REQUEST", { message: "invalid tenant or asset id" });
    const cmd = new PutObjectCommand({
      Bucket: this.bucket,
      Key: metaKey(asset.tenantId, asset.assetId),
      Body: JSON.stringify(asset),
      ContentType: "application/json",
      IfNoneMatch: "*",
    });
    try {
      // Resolves only after the store acknowledged the write: the asset is durable before the 201.
      await this.client.send(cmd);
    } catch (e) {
      if (isPreconditionFailure(e)) throw new AppError("ERR_CONFLICT", { message: "The raw asset already exists", cause: e });
      throw translateS3Error(e, "createMetadata");
    }
  }

  async getMetadata(tenantId: string, assetId: string): Promise<RawAsset | undefined> {
    if (!validIds(tenantId, assetId)) return undefined;
    let text: string;
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: metaKey(tenantId, assetId) }));
      text = (await res.Body?.transformToString("utf-8")) ?? "";
    } catch (e) {
      if (httpStatusOf(e) === 404 && errorNameOf(e) !== "NoSuchBucket") return undefined;
      throw translateS3Error(e, "getMetadata");
    }
    try {
      const asset = parseRawAsset(JSON.parse(text));
      // A document filed under the wrong tenant or id is treated as absent, never shown.
      return asset.tenantId === tenantId && asset.assetId === assetId ? asset : undefined;
    } catch (e) {
      throw new AppError("ERR_INTERNAL", { message: "Stored raw-asset metadata is unreadable", cause: e });
    }
  }

  async listMetadata(tenantId: string, opts: ListOptions): Promise<Page<RawAsset>> {
    if (!isValidId(tenantId)) return { items: [], nextCursor: null };
    if (opts.cursor !== undefined && !isValidId(opts.cursor)) throw new AppError("ERR_INVALID_REQUEST", { message: "invalid cursor" });
    const prefix = rawPrefix(tenantId);
    let ids: string[];
    let truncated: boolean;
    try {
      const res = await this.client.send(new ListObjectsV2Command({
        Bucket: this.bucket,
        Prefix: prefix,
        Delimiter: "/", // one CommonPrefix per asset, however many objects it holds
        MaxKeys: opts.limit,
        // Past every key of the cursor's asset: U+10FFFF sorts after any file name.
        StartAfter: opts.cursor === undefined ? undefined : `${assetPrefix(tenantId, opts.cursor)}\u{10FFFF}`,
      }));
      ids = (res.CommonPrefixes ?? [])
        .map((p) => (p.Prefix ?? "").slice(prefix.length, -1))
        .filter(isValidId);
      truncated = res.IsTruncated === true;
    } catch (e) {
      throw translateS3Error(e, "listMetadata");
    }
    const fetched = await mapLimit(ids, LIST_FETCH_CONCURRENCY, (id) => this.getMetadata(tenantId, id));
    // A prefix without meta.json (content put by hand, say) is not a registered asset.
    const items = fetched.filter((a): a is RawAsset => a !== undefined);
    return { items, nextCursor: truncated && ids.length > 0 ? ids[ids.length - 1]! : null };
  }

  async presignUpload(asset: RawAsset, ttlS: number): Promise<PresignedUpload> {
    const signedAt = this.now();
    // Content-Type is signed (the presigner would otherwise drop it silently):
    // the client must PUT with the type it registered, so the object is served with it.
    const cmd = new PutObjectCommand({
      Bucket: this.bucket,
      Key: contentKey(asset.tenantId, asset.assetId, asset.filename),
      ContentType: asset.contentType,
    });
    try {
      const url = await getSignedUrl(this.client, cmd, {
        expiresIn: ttlS,
        signingDate: new Date(signedAt),
        signableHeaders: new Set(["content-type"]),
      });
      return { method: "PUT", url, expiresAt: new Date(signedAt + ttlS * 1000).toISOString() };
    } catch (e) {
      throw translateS3Error(e, "presignUpload");
    }
  }

  async health(): Promise<StorageHealth> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
      return { ok: true, detail: this.describe() };
    } catch (e) {
      const err = translateS3Error(e, "health");
      const why = httpStatusOf(e) === 404 ? "bucket missing" : err.message;
      return { ok: false, detail: `${this.describe()}: ${why}` };
    }
  }

  describe(): string {
    return `s3 (bucket ${this.bucket})`;
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}

/** Runs `fn` over `items` with at most `limit` in flight, keeping order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!); // `!`: i < items.length
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

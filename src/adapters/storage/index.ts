import { S3Client } from "@aws-sdk/client-s3";
import type { Config } from "../../config/index.js";
import { MemoryStorage } from "./memory.js";
import { S3Storage } from "./s3.js";
import type { RawStorage } from "./storage.js";

export type { RawAsset, RawStorage, PresignedUpload, ListOptions, Page, StorageHealth } from "./storage.js";
export { MemoryStorage } from "./memory.js";
export { S3Storage } from "./s3.js";
export { RawAssetsService, type RawAssetWithUpload, type RequestCtx } from "./service.js";
export { sanitizeFilename } from "./keys.js";

export interface RawStorageDeps {
  readonly now?: () => number;
  /** Tests inject a client; otherwise one is built from the S3_* settings. */
  readonly s3Client?: S3Client;
}

type StorageConfig = Pick<Config,
  "RAW_STORAGE_BACKEND" | "RAW_MEMORY_MAX_ASSETS" | "S3_BUCKET" | "S3_ENDPOINT" | "S3_REGION" | "S3_FORCE_PATH_STYLE" | "S3_ACCESS_KEY_ID" | "S3_SECRET_ACCESS_KEY">;

/**
 * Picks the backend the operator asked for. There is deliberately no fallback:
 * with `s3` configured and the store unreachable, requests answer 503
 * not_ready, because assets the operator wanted kept must not land in RAM.
 */
export function createRawStorage(config: StorageConfig, deps: RawStorageDeps = {}): RawStorage {
  const backend = config.RAW_STORAGE_BACKEND;
  switch (backend) {
    case "memory":
      return new MemoryStorage({ now: deps.now, maxAssets: config.RAW_MEMORY_MAX_ASSETS });
    case "s3":
      return new S3Storage({ client: deps.s3Client ?? buildS3Client(config), bucket: config.S3_BUCKET, now: deps.now });
    default: {
      const unknown: never = backend; // a new backend kind must be handled here
      throw new Error(`RAW_STORAGE_BACKEND: unknown backend ${String(unknown)}`);
    }
  }
}

/**
 * Client settings that work on AWS and on Ceph RGW alike (REAL-COMPONENTS):
 * path-style addressing for endpoints without wildcard DNS, and checksums only
 * when an operation requires them (radosgw rejects the SDK's default streamed
 * checksums). Timeouts are bounded so an unreachable store becomes a 503 in
 * seconds instead of a hung request.
 */
export function buildS3Client(config: StorageConfig): S3Client {
  const credentials = config.S3_ACCESS_KEY_ID && config.S3_SECRET_ACCESS_KEY
    ? { accessKeyId: config.S3_ACCESS_KEY_ID, secretAccessKey: config.S3_SECRET_ACCESS_KEY }
    : undefined; // undefined: the SDK's default chain (env, profile, instance role)
  return new S3Client({
    region: config.S3_REGION,
    endpoint: config.S3_ENDPOINT,
    forcePathStyle: config.S3_FORCE_PATH_STYLE,
    credentials,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    maxAttempts: 3,
    requestHandler: { connectionTimeout: 2_000, requestTimeout: 10_000 },
  });
}

import { z } from "zod";
import { AppError } from "../../errors/index.js";
import { idSchema, isValidId, newId as defaultNewId } from "../../registry/ids.js";
import { sanitizeFilename } from "./keys.js";
import type { Page, PresignedUpload, RawAsset, RawStorage } from "./storage.js";
import { METADATA_MAX_BYTES, MIME_PATTERN, jsonFits, parseOrThrow } from "./validate.js";

// POST/GET /nexus/raw/assets (SPEC §4) without the HTTP: the lead's routes
// pass the verified request context and the parsed body or query, and turn
// the AppErrors thrown here into responses.

export interface RequestCtx {
  readonly tenantId: string;
  readonly userId: string;
}

export type RawAssetWithUpload = RawAsset & { readonly upload: PresignedUpload };

const registerSchema = z.object({
  filename: z.string().min(1).max(255),
  contentType: z.string().max(255).regex(MIME_PATTERN, "must be a MIME type like type/subtype"),
  bytes: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).optional(),
  metadata: z
    .record(z.string(), z.unknown())
    .refine((m) => jsonFits(m, METADATA_MAX_BYTES), `must be at most ${METADATA_MAX_BYTES} bytes as JSON`)
    .optional(),
});

const listSchema = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: idSchema.optional(),
});

export interface RawAssetsServiceOptions {
  readonly storage: RawStorage;
  /** Lifetime of the presigned upload URL (S3_PRESIGN_TTL_S). */
  readonly presignTtlS: number;
  readonly now?: () => number;
  readonly newId?: () => string;
}

export class RawAssetsService {
  private readonly storage: RawStorage;
  private readonly ttlS: number;
  private readonly now: () => number;
  private readonly newId: () => string;

  constructor(opts: RawAssetsServiceOptions) {
    this.storage = opts.storage;
    this.ttlS = opts.presignTtlS;
    this.now = opts.now ?? Date.now;
    this.newId = opts.newId ?? (() => defaultNewId());
  }

  /** Registers an asset: its metadata is durable in the store before this resolves (SPEC: before the 201). */
  async register(ctx: RequestCtx, body: unknown): Promise<RawAssetWithUpload> {
    checkCtx(ctx);
    const input = parseOrThrow(registerSchema, body);
    const assetId = this.newId(); // server-made and unguessable; never taken from the client
    const filename = sanitizeFilename(input.filename);
    const asset: RawAsset = {
      assetId,
      tenantId: ctx.tenantId,
      uri: this.storage.uriFor(ctx.tenantId, assetId, filename),
      filename,
      contentType: input.contentType,
      bytes: input.bytes ?? null,
      metadata: input.metadata ?? {},
      createdBy: ctx.userId,
      createdAt: new Date(this.now()).toISOString(),
      status: "registered",
    };
    await this.storage.createMetadata(asset);
    const upload = await this.storage.presignUpload(asset, this.ttlS);
    return { ...asset, upload };
  }

  /** Invalid, unknown and other tenants' ids are all the same 404. */
  async get(ctx: RequestCtx, assetId: string): Promise<RawAsset> {
    checkCtx(ctx);
    const asset = isValidId(assetId) ? await this.storage.getMetadata(ctx.tenantId, assetId) : undefined;
    if (!asset || asset.tenantId !== ctx.tenantId) throw new AppError("ERR_NOT_FOUND");
    return asset;
  }

  /** `query` is the raw query object ({limit?, cursor?} as strings or numbers). */
  async list(ctx: RequestCtx, query: unknown): Promise<Page<RawAsset>> {
    checkCtx(ctx);
    const { limit, cursor } = parseOrThrow(listSchema, query ?? {});
    return this.storage.listMetadata(ctx.tenantId, { limit, cursor });
  }
}

/** The context comes from verified auth; an invalid one is a wiring bug, refused before any key is built. */
function checkCtx(ctx: RequestCtx): void {
  if (!isValidId(ctx.tenantId) || typeof ctx.userId !== "string" || ctx.userId === "") {
    throw new AppError("ERR_INVALID_REQUEST", { message: "invalid request context" });
  }
}

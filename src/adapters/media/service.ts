import { z } from "zod";
import { AppError } from "../../errors/index.js";
import { isValidId, newId as defaultNewId } from "../../registry/ids.js";
import { parseOrThrow } from "../storage/validate.js";
import { CURSOR_PATTERN, type MediaAsset, type MediaPage, type MediaRepository } from "./media.js";
import { createMediaSchema } from "./schema.js";

// /media-v2/assets (SPEC §4) without the HTTP. Media v2 carries the tenant
// twice (token context and `tenant_id`); they must agree, and a disagreement is
// `403 context_mismatch`, never a silent pick of one of them.

export interface MediaCtx {
  readonly tenantId: string;
  readonly userId: string;
}

const listSchema = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z.string().regex(CURSOR_PATTERN, "must be a cursor returned by a previous page").optional(),
});

export interface MediaServiceOptions {
  readonly repo: MediaRepository;
  readonly now?: () => number;
  readonly newId?: () => string;
}

export class MediaService {
  private readonly repo: MediaRepository;
  private readonly now: () => number;
  private readonly newId: () => string;

  constructor(opts: MediaServiceOptions) {
    this.repo = opts.repo;
    this.now = opts.now ?? Date.now;
    this.newId = opts.newId ?? (() => defaultNewId());
  }

  /** Durable in the repository before it resolves (the 201). */
  async create(ctx: MediaCtx, body: unknown): Promise<MediaAsset> {
    checkCtx(ctx);
    // The mismatch is decided before field validation: naming another tenant is
    // an authorisation problem, whatever else is wrong with the body.
    const claimed = typeof body === "object" && body !== null ? (body as { tenant_id?: unknown }).tenant_id : undefined;
    if (typeof claimed === "string" && claimed !== ctx.tenantId) throw new AppError("ERR_CONTEXT_MISMATCH");
    const input = parseOrThrow(createMediaSchema, body);
    const asset: MediaAsset = {
      id: this.newId(),
      tenantId: ctx.tenantId,
      kind: input.kind,
      uri: input.uri,
      contentType: input.contentType ?? null,
      bytes: input.bytes ?? null,
      metadata: input.metadata ?? {},
      createdBy: ctx.userId,
      createdAt: new Date(this.now()).toISOString(),
    };
    await this.repo.create(asset);
    return asset;
  }

  /** `tenantIdParam` is the `tenant_id` query parameter as received (undefined when absent). */
  async get(ctx: MediaCtx, assetId: string, tenantIdParam: string | undefined): Promise<MediaAsset> {
    checkCtx(ctx);
    checkTenantParam(ctx, tenantIdParam);
    const asset = isValidId(assetId) ? await this.repo.get(ctx.tenantId, assetId) : undefined;
    if (!asset || asset.tenantId !== ctx.tenantId) throw new AppError("ERR_NOT_FOUND");
    return asset;
  }

  async list(ctx: MediaCtx, tenantIdParam: string | undefined, query: unknown): Promise<MediaPage> {
    checkCtx(ctx);
    checkTenantParam(ctx, tenantIdParam);
    const { limit, cursor } = parseOrThrow(listSchema, query ?? {});
    return this.repo.list(ctx.tenantId, { limit, cursor });
  }
}

function checkTenantParam(ctx: MediaCtx, param: string | undefined): void {
  if (param === undefined || param === "") {
    throw new AppError("ERR_INVALID_REQUEST", { details: [{ path: "tenant_id", message: "required" }] });
  }
  if (param !== ctx.tenantId) throw new AppError("ERR_CONTEXT_MISMATCH");
}

/** The context comes from verified auth; an invalid one is a wiring bug. */
function checkCtx(ctx: MediaCtx): void {
  if (!isValidId(ctx.tenantId) || typeof ctx.userId !== "string" || ctx.userId === "") {
    throw new AppError("ERR_INVALID_REQUEST", { message: "invalid request context" });
  }
}

// The Media v2 port (SPEC §4 "Media v2"): value types and the interface only.
// Implementations: memory.ts (tests, dev), sqlite.ts (durable, embedded).

export type MediaKind = "image" | "video" | "audio" | "document" | "other";

export interface MediaAsset {
  readonly id: string;
  readonly tenantId: string;
  readonly kind: MediaKind;
  readonly uri: string;
  readonly contentType: string | null;
  readonly bytes: number | null;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly createdBy: string;
  readonly createdAt: string;
}

export interface MediaListOptions {
  /** 1..500, already validated by the caller. */
  readonly limit: number;
  /** The `nextCursor` of the previous page, opaque to callers. */
  readonly cursor?: string | undefined;
}

export interface MediaPage {
  readonly items: MediaAsset[];
  readonly nextCursor: string | null;
}

/**
 * Media assets per tenant, listed in creation order. The cursor is the
 * decimal position of the last item returned (a per-store counter), so a page
 * boundary survives later inserts. Methods throw AppError: ERR_CONFLICT (create
 * of an existing id), ERR_INVALID_REQUEST (malformed cursor), ERR_NOT_READY.
 */
export interface MediaRepository {
  readonly kind: "memory" | "sqlite";
  /** Durable before it resolves. */
  create(asset: MediaAsset): Promise<void>;
  get(tenantId: string, id: string): Promise<MediaAsset | undefined>;
  list(tenantId: string, opts: MediaListOptions): Promise<MediaPage>;
  describe(): string;
  close(): Promise<void>;
}

export const CURSOR_PATTERN = /^[0-9]{1,15}$/;

import type { Config } from "../../config/index.js";
import type { MediaRepository } from "./media.js";
import { MemoryMedia } from "./memory.js";
import { SqliteMedia } from "./sqlite.js";

export type { MediaAsset, MediaKind, MediaRepository, MediaPage, MediaListOptions } from "./media.js";
export { MemoryMedia } from "./memory.js";
export { SqliteMedia, MEDIA_DB_FILE } from "./sqlite.js";
export { MediaService, type MediaCtx } from "./service.js";

export type MediaBackend = "memory" | "sqlite";

export interface MediaDeps {
  /**
   * The config has no MEDIA_BACKEND yet, so the backend is chosen here:
   * durable SQLite under DATA_DIR unless a caller (tests, an explicit dev
   * mode) asks for memory.
   */
  readonly backend?: MediaBackend;
}

export function createMedia(config: Pick<Config, "DATA_DIR" | "MEDIA_MEMORY_MAX_ASSETS">, deps: MediaDeps = {}): MediaRepository {
  const backend = deps.backend ?? "sqlite";
  switch (backend) {
    case "memory":
      return new MemoryMedia({ maxAssets: config.MEDIA_MEMORY_MAX_ASSETS });
    case "sqlite":
      return new SqliteMedia({ dir: config.DATA_DIR });
    default: {
      const unknown: never = backend; // a new backend kind must be handled here
      throw new Error(`media backend: unknown kind ${String(unknown)}`);
    }
  }
}

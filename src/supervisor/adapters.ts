import type { Logger } from "pino";
import type { Registry as PromRegistry } from "prom-client";
import type { Config } from "../config/index.js";
import { DatasetsService, getDatasetBackend, type AuditEntry, type DatasetsContext } from "../adapters/datasets/index.js";
import { createFlagStore, FlagsService, type FlagsContext } from "../adapters/flags/index.js";
import { createMedia, MediaService, type MediaCtx } from "../adapters/media/index.js";
import { createRawStorage, RawAssetsService, type RequestCtx } from "../adapters/storage/index.js";
import { NatsBus } from "../bus/index.js";

/**
 * The supervisor's adapters, each built by its own factory from config (an
 * unknown kind fails at start) and described for /readyz with the backend
 * actually in use, fallbacks included.
 */
export async function startAdapters(config: Config, log: Logger, metrics: PromRegistry) {
  const raw = createRawStorage(config);
  const rawAssets = new RawAssetsService({ storage: raw, presignTtlS: config.S3_PRESIGN_TTL_S });
  const mediaRepo = createMedia(config, { backend: config.MEDIA_BACKEND });
  const media = new MediaService({ repo: mediaRepo });

  // Flags over NATS KV need a connection; when it cannot be made, the factory's declared policy
  // applies (memory with a warn in dev/staging, a start-up error in prod).
  const flagsNats = config.FEATURE_FLAGS_BACKEND === "nats"
    ? await NatsBus.connect({ servers: config.NATS_URL, name: "switchyard-flags" }).catch((e: unknown) => {
        log.warn({ adapter: "flags", err: e instanceof Error ? e.message : String(e) }, "NATS unreachable for feature flags");
        return undefined;
      })
    : undefined;
  const flagStore = await createFlagStore(config, {
    logger: log.child({ adapter: "flags" }),
    registry: metrics,
    ...(config.FIRESTORE_EMULATOR_HOST ? { firestoreEmulatorHost: config.FIRESTORE_EMULATOR_HOST } : {}),
    ...(flagsNats ? { nats: flagsNats.connection } : {}),
  });
  const flags = new FlagsService(flagStore, log.child({ adapter: "flags" }));

  const datasetBackend = await getDatasetBackend(config, {
    logger: log.child({ adapter: "datasets" }),
    registry: metrics,
    ...(config.FIRESTORE_EMULATOR_HOST ? { firestoreEmulatorHost: config.FIRESTORE_EMULATOR_HOST } : {}),
  });
  const datasets = new DatasetsService(datasetBackend, log.child({ adapter: "datasets" }));

  return {
    /** RPC-exposed methods (plain data in and out). */
    services: {
      raw: {
        register: (ctx: RequestCtx, body: unknown) => rawAssets.register(ctx, body),
        get: (ctx: RequestCtx, id: string) => rawAssets.get(ctx, id),
        list: (ctx: RequestCtx, q: unknown) => rawAssets.list(ctx, q as Record<string, unknown>),
      },
      media: {
        create: (ctx: MediaCtx, body: unknown) => media.create(ctx, body),
        get: (ctx: MediaCtx, id: string, tenantParam: string | undefined) => media.get(ctx, id, tenantParam),
        list: (ctx: MediaCtx, tenantParam: string | undefined, q: unknown) => media.list(ctx, tenantParam, q),
      },
      flags: {
        list: (ctx: FlagsContext) => flags.list(ctx),
        get: (ctx: FlagsContext, key: string) => flags.get(ctx, key),
        put: (ctx: FlagsContext, key: string, body: unknown) => flags.put(ctx, key, body),
        delete: (ctx: FlagsContext, key: string) => flags.delete(ctx, key),
      },
      datasets: {
        accept: (ctx: DatasetsContext, body: unknown) => datasets.accept(ctx, body),
        list: (ctx: DatasetsContext, q: unknown) => datasets.list(ctx, q),
        auditMany: (entries: readonly AuditEntry[]) => datasets.auditMany(entries),
      },
    },
    checks(): Record<string, string> {
      return {
        rawStorage: raw.describe(),
        media: config.MEDIA_BACKEND,
        flags: flagStore.describe(),
        logging: datasets.describe(),
      };
    },
    async close(): Promise<void> {
      await datasetBackend.close();
      await raw.close();
      await mediaRepo.close?.();
      await flagStore.close();
      await flagsNats?.close();
    },
  };
}

export type Adapters = Awaited<ReturnType<typeof startAdapters>>;

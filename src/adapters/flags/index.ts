import type { Firestore } from "@google-cloud/firestore";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Config } from "../../config/index.js";
import type { Logger } from "../../observability/logger.js";
import type { FlagStore } from "./flags.js";
import type { Clock } from "./base.js";
import { MemoryFlagStore } from "./memory.js";
import { FirestoreFlagStore } from "./firestore.js";
import { NatsKvFlagStore } from "./nats-kv.js";

export * from "./flags.js";
export { DEFAULT_FLAGS, DEFAULTS_UPDATED_AT, type FlagDefault } from "./defaults.js";
export { MemoryFlagStore } from "./memory.js";
export { FirestoreFlagStore } from "./firestore.js";
export { NatsKvFlagStore } from "./nats-kv.js";
export { FlagsService, type FlagsContext, type FlagEvaluation } from "./service.js";

export interface FlagStoreDeps {
  readonly logger?: Logger;
  readonly now?: Clock;
  /** Required for FEATURE_FLAGS_BACKEND=firestore (the supervisor builds it from FIRESTORE_PROJECT_ID). */
  readonly firestore?: Firestore;
  /** Required for FEATURE_FLAGS_BACKEND=nats: the node's shared connection. */
  readonly nats?: NatsConnection;
  /** Namespace for collections / bucket; defaults to config.NATS_PREFIX. */
  readonly prefix?: string;
}

// Exhaustive over FEATURE_FLAGS_BACKEND. Flags are configuration an operator chose to share, so a
// configured backend that cannot be reached is a start-up error, not a silent fallback to memory
// (which would split the cluster's view). Reads stay safe regardless: FlagsService.isEnabled
// answers the coded default when the store is down.
export async function createFlagStore(config: Config, deps: FlagStoreDeps = {}): Promise<FlagStore> {
  const kind = config.FEATURE_FLAGS_BACKEND;
  const opts = deps.now ? { now: deps.now } : {};
  switch (kind) {
    case "memory":
      return new MemoryFlagStore(opts);
    case "firestore": {
      if (!deps.firestore) throw new Error("FEATURE_FLAGS_BACKEND=firestore: no Firestore client (set FIRESTORE_PROJECT_ID)");
      return new FirestoreFlagStore(deps.firestore, { ...opts, prefix: deps.prefix ?? `${config.NATS_PREFIX}_` });
    }
    case "nats": {
      if (!deps.nats) throw new Error("FEATURE_FLAGS_BACKEND=nats: no NATS connection (check NATS_URL)");
      return NatsKvFlagStore.open(deps.nats, { ...opts, prefix: deps.prefix ?? config.NATS_PREFIX });
    }
    default: {
      const never: never = kind;
      throw new Error(`FEATURE_FLAGS_BACKEND: unknown backend ${String(never)}`);
    }
  }
}

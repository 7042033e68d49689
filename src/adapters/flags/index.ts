import type { Firestore } from "@google-cloud/firestore";
import type { NatsConnection } from "../../bus/index.js";
import type { Registry } from "prom-client";
import type { Config } from "../../config/index.js";
import type { Logger } from "../../observability/logger.js";
import { loadFirestore } from "../datasets/clients.js";
import { declareFallback, fallbackMetrics, type FallbackKind } from "../datasets/fallback.js";
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
export { FlagsService, rolloutBucket, type FlagsContext, type FlagEvaluation } from "./service.js";

export interface FlagStoreDeps {
  readonly logger?: Logger;
  readonly registry?: Registry;
  readonly now?: Clock;
  /** An injected client; otherwise one is built from FIRESTORE_PROJECT_ID. */
  readonly firestore?: Firestore;
  readonly firestoreEmulatorHost?: string;
  readonly importModule?: (name: string) => Promise<unknown>;
  /** Required for FEATURE_FLAGS_BACKEND=nats: the node's shared connection. */
  readonly nats?: NatsConnection;
  /** Namespace for collections / bucket; defaults to config.NATS_PREFIX. */
  readonly prefix?: string;
}

// Exhaustive over FEATURE_FLAGS_BACKEND. A configured backend that is unusable at start falls
// back to memory in dev/staging (declared: warn, metric, describe()), but is a start-up error
// in prod: memory flags would silently split a cluster's view and lose admin overrides
// (DESIGN "Adapters and fallbacks"). Reads stay safe either way: isEnabled answers the coded
// default whenever the store fails.
export async function createFlagStore(config: Config, deps: FlagStoreDeps = {}): Promise<FlagStore> {
  const kind = config.FEATURE_FLAGS_BACKEND;
  const opts = deps.now ? { now: deps.now } : {};
  const fallback = (why: FallbackKind, reason: string): FlagStore => {
    if (config.APP_ENV === "prod") throw new Error(`FEATURE_FLAGS_BACKEND=${kind}: ${reason} (no fallback in prod)`);
    const state = { wanted: kind, using: "memory", kind: why, reason };
    if (deps.logger) declareFallback("flags", state, deps.logger, fallbackMetrics(deps.registry));
    return new MemoryFlagStore({ ...opts, fallbackOf: `${kind} unavailable: ${reason}` });
  };
  switch (kind) {
    case "memory":
      return new MemoryFlagStore(opts);
    case "firestore": {
      const loaded = await loadFirestore(config, deps);
      if (!loaded.ok) return fallback(loaded.kind, loaded.reason);
      return new FirestoreFlagStore(loaded.client, { ...opts, prefix: deps.prefix ?? `${config.NATS_PREFIX}_` });
    }
    case "nats": {
      if (!deps.nats) return fallback("not_configured", "no NATS connection");
      try {
        return await NatsKvFlagStore.open(deps.nats, { ...opts, prefix: deps.prefix ?? config.NATS_PREFIX });
      } catch (e) {
        return fallback("unreachable", e instanceof Error ? e.message : String(e));
      }
    }
    default: {
      const never: never = kind;
      throw new Error(`FEATURE_FLAGS_BACKEND: unknown backend ${String(never)}`);
    }
  }
}

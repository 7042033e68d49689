// The feature-flags port: coded global defaults, stored globals, and per-tenant overrides.
// Value types and the interface only; implementations: memory.ts, firestore.ts, nats-kv.ts.

export const FLAG_KEY_PATTERN = /^[a-z0-9._-]{1,128}$/;

export type FlagScope = "tenant" | "global";

/** An effective flag as a tenant sees it (SPEC §4 Feature flags). */
export interface Flag {
  readonly key: string;
  readonly enabled: boolean;
  /** Percentage 0..100 of subjects for which an enabled flag evaluates true. */
  readonly rollout: number;
  readonly description: string;
  readonly scope: FlagScope;
  readonly updatedAt: string;
}

/** The body of a PUT. PUT replaces an override: an absent rollout means 100. */
export interface FlagInput {
  readonly enabled: boolean;
  readonly rollout?: number;
  readonly description?: string;
}

/** What a backend stores for one (owner, key). An absent description inherits the global one. */
export interface FlagRecord {
  readonly enabled: boolean;
  readonly rollout: number;
  readonly description?: string;
  readonly updatedAt: string;
}

/** A change seen by watch(): tenantId null means a stored global changed. */
export interface FlagChange {
  readonly tenantId: string | null;
  readonly key: string;
}

export interface AdapterHealth {
  readonly ok: boolean;
  readonly backend: string;
  readonly detail?: string;
}

export interface FlagStore {
  readonly backend: "memory" | "firestore" | "nats";
  /** Every flag the tenant sees (defaults ∪ stored globals ∪ its overrides), sorted by key. */
  listEffective(tenantId: string): Promise<Flag[]>;
  get(tenantId: string, key: string): Promise<Flag | undefined>;
  putOverride(tenantId: string, key: string, input: FlagInput): Promise<{ flag: Flag; created: boolean }>;
  /** true when an override existed and is now gone. */
  deleteOverride(tenantId: string, key: string): Promise<boolean>;
  /** Operator-level globals layered over the coded defaults (no public route; ops and tests). */
  putGlobal(key: string, input: FlagInput): Promise<{ flag: Flag; created: boolean }>;
  deleteGlobal(key: string): Promise<boolean>;
  /** Live change feed, where the backend has one. Returns an unsubscribe function. */
  watch?(listener: (change: FlagChange) => void): () => void;
  health(): Promise<AdapterHealth>;
  /** For /readyz: the backend in use, e.g. "memory (fallback: nats unavailable: …)". */
  describe(): string;
  /** Releases what the store opened itself (never an injected client/connection). */
  close(): Promise<void>;
}

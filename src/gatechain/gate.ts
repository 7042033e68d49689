import type { Config } from "../config/index.js";

// The GateChain's value types. Gates are synchronous on purpose: they run on
// every mutating action and read only in-memory state (see snapshot.ts).

export const GATE_ORDER = ["killswitch", "rate", "budget", "kpi"] as const;
export type GateName = (typeof GATE_ORDER)[number];

export const GATE_ACTIONS = ["message.post", "canvas.event", "ws.publish", "media.create", "raw.register", "dataset.event"] as const;
export type GateAction = (typeof GATE_ACTIONS)[number];

export type GateReason =
  | "killswitch_on"
  | "rate_limited"
  | "budget_exhausted"
  | "budget_not_configured"
  | "kpi_out_of_bounds"
  | "kpi_not_configured";

export interface GateInput {
  readonly tenantId: string;
  readonly action: GateAction;
  /** Milliseconds since the epoch; injected so windows and buckets are testable. */
  readonly now: number;
}

export interface GateAllow {
  readonly allow: true;
}

export interface GateDeny {
  readonly allow: false;
  readonly gate: GateName;
  readonly reason: GateReason;
  readonly status: 403 | 429;
  readonly retryAfterS?: number;
  /** The KPI that is out of bounds (kpi gate only). */
  readonly kpi?: string;
}

export type GateDecision = GateAllow | GateDeny;

export const ALLOW: GateAllow = Object.freeze({ allow: true });

/**
 * One ordered hook of the chain. `check` decides without side effects; the
 * chain calls `commit` on every gate only once all of them allowed, so an
 * action refused by a later gate (say kpi) consumes neither rate tokens nor
 * budget units. `available` says how many units could be committed at once
 * (leases take several); a gate without it is not consumable.
 */
export interface Gate {
  readonly name: GateName;
  check(input: GateInput): GateDecision;
  commit?(input: GateInput, units: number): void;
  available?(input: GateInput): number;
}

/** SPEC §4: missing budget/KPI config passes in dev/staging or with GATECHAIN_ALLOW_MISSING. */
export function allowsMissingConfig(config: Pick<Config, "APP_ENV" | "GATECHAIN_ALLOW_MISSING">): boolean {
  return config.APP_ENV === "dev" || config.APP_ENV === "staging" || config.GATECHAIN_ALLOW_MISSING;
}

export function deny(gate: GateName, reason: GateReason, extra: { retryAfterS?: number; kpi?: string } = {}): GateDeny {
  const status = reason === "rate_limited" ? 429 : 403;
  return { allow: false, gate, reason, status, ...extra };
}

/** Whole seconds for Retry-After: never 0, because "retry now" would just be refused again. */
export const retryAfterSeconds = (ms: number): number => Math.max(1, Math.ceil(ms / 1000));

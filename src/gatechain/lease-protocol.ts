import { z } from "zod";
import { tenantIdSchema } from "../registry/ids.js";
import { GATE_ACTIONS, type GateAction, type GateDeny } from "./gate.js";

// Messages between a front (LeaseHolder, worker thread) and the supervisor
// (LeaseGranter). Plain data only — numbers, strings, arrays, plain objects —
// so they cross a MessagePort by structured clone unchanged. The transport is
// the caller's: the holder takes a `request` function, the granter a message.

/** Units of an ended lease that were never admitted, handed back for credit. */
export interface LeaseReturn {
  readonly leaseId: string;
  readonly unused: number;
}

export interface LeaseRequest {
  readonly type: "lease.request";
  /** Correlates the response; unique per holder. */
  readonly id: number;
  readonly tenantId: string;
  readonly action: GateAction;
  readonly want: number;
  /** Piggy-backed returns of ended leases (any tenant), so they cost no extra message. */
  readonly returns: readonly LeaseReturn[];
}

export interface LeaseRelease {
  readonly type: "lease.release";
  readonly returns: readonly LeaseReturn[];
}

export interface LeaseGrantResponse {
  readonly type: "lease.grant";
  readonly id: number;
  readonly tenantId: string;
  readonly action: GateAction;
  readonly leaseId: string;
  readonly granted: number;
  /** Epoch ms; units may be admitted only while clock() < validUntil. Never past the budget window's end. */
  readonly validUntil: number;
}

export interface LeaseDenyResponse {
  readonly type: "lease.deny";
  readonly id: number;
  readonly tenantId: string;
  readonly action: GateAction;
  readonly decision: GateDeny;
}

export type LeaseResponse = LeaseGrantResponse | LeaseDenyResponse;

/** Supervisor → every holder: drop (and later return) held units because config changed. `*` = all tenants. */
export interface LeaseRevoke {
  readonly type: "lease.revoke";
  readonly tenantId: string;
}

const returnsSchema = z.array(z.strictObject({ leaseId: z.string().min(1).max(64), unused: z.number().int().min(0) })).max(100_000);

export const leaseRequestSchema = z.strictObject({
  type: z.literal("lease.request"),
  id: z.number().int().min(0),
  tenantId: tenantIdSchema,
  action: z.enum(GATE_ACTIONS),
  want: z.number().int().min(1),
  returns: returnsSchema,
});

export const leaseReleaseSchema = z.strictObject({ type: z.literal("lease.release"), returns: returnsSchema });

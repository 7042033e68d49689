// GateChain leases: the supervisor (LeaseGranter) hands fronts slices of a
// tenant's rate and budget so most admissions need no round trip. See
// lease-granter.ts for why the total admitted never exceeds the budget.
export { LeaseGranter, type LeaseGranterOptions, type LeaseOutcome } from "./lease-granter.js";
export { LeaseHolder, type LeaseHolderOptions } from "./lease-holder.js";
export type {
  LeaseRequest,
  LeaseResponse,
  LeaseGrantResponse,
  LeaseDenyResponse,
  LeaseRelease,
  LeaseReturn,
  LeaseRevoke,
} from "./lease-protocol.js";
export { leaseRequestSchema, leaseReleaseSchema } from "./lease-protocol.js";

import { ALLOW, deny, type Gate, type GateDecision, type GateInput } from "./gate.js";
import type { GateSnapshot } from "./snapshot.js";

/** First gate: an operator's off switch, global or per tenant, for all actions or one. */
export class KillswitchGate implements Gate {
  readonly name = "killswitch" as const;

  constructor(private readonly snapshot: GateSnapshot) {}

  check(input: GateInput): GateDecision {
    return this.snapshot.killed(input.tenantId, input.action) ? deny("killswitch", "killswitch_on") : ALLOW;
  }
}

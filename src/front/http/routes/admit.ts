import type { AppError } from "../../../errors/index.js";

/** The GateChain admission for a mutating action; throws AppError on deny. */
export type GatedAction = "message.post" | "canvas.event" | "ws.publish" | "media.create" | "raw.register" | "dataset.event";
/** Returns undefined when admitted locally (no promise), a promise when the granter must be asked. */
export type Admit = ((tenantId: string, action: GatedAction) => Promise<void> | void) & {
  /**
   * The refusal when the action is known to be refused right now, consuming
   * nothing: a flood is turned away before validation, one shared error per
   * cached decision (no stack trace per refused frame).
   */
  readonly precheck?: (tenantId: string, action: GatedAction) => AppError | undefined;
};

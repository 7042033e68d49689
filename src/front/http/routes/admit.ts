/** The GateChain admission for a mutating action; throws AppError on deny. */
export type GatedAction = "message.post" | "canvas.event" | "ws.publish" | "media.create" | "raw.register" | "dataset.event";
export type Admit = ((tenantId: string, action: GatedAction) => Promise<void> | void) & {
  /** Throws when the action is known to be refused right now, consuming nothing (cheap flood refusal). */
  readonly precheck?: (tenantId: string, action: GatedAction) => void;
};

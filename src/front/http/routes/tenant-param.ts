import { AppError } from "../../../errors/index.js";

/**
 * A `tenant_id` given in a path or query must name the acting tenant
 * (SPEC §3 context_mismatch); absent, it defaults to the acting tenant
 * unless `required`.
 */
export function sameTenant(acting: string, given: string | null | undefined, required = false): string {
  if (given === undefined || given === null || given === "") {
    if (required) throw new AppError("ERR_INVALID_REQUEST", { message: "tenant_id is required", details: [{ path: ["tenant_id"], message: "required" }] });
    return acting;
  }
  if (given !== acting) throw new AppError("ERR_CONTEXT_MISMATCH");
  return acting;
}

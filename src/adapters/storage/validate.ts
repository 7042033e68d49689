import type { z } from "zod";
import { AppError } from "../../errors/index.js";

// Shared by the raw-storage and media services: schema failures become
// `400 invalid_request` with one {path, message} per field issue (SPEC §3).

export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const details = parsed.error.issues.map((i) => ({ path: i.path.map(String).join("."), message: i.message }));
  throw new AppError("ERR_INVALID_REQUEST", { details });
}

/** `type/subtype` with optional `; key=value` parameters, header-safe ASCII only. */
export const MIME_PATTERN =
  /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}(?:\s*;\s*[A-Za-z0-9!#$&^_.+-]+=(?:[A-Za-z0-9!#$&^_.+-]+|"[^"\\\x00-\x1f\x7f]*"))*$/;

export const METADATA_MAX_BYTES = 4096;

/** Whether a value's JSON form fits in `max` UTF-8 bytes. */
export const jsonFits = (value: unknown, max: number): boolean => Buffer.byteLength(JSON.stringify(value)) <= max;

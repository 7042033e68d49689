import { z } from "zod";
import { AppError } from "../../errors/index.js";

export type BodyResult =
  | { readonly kind: "none" }
  | { readonly kind: "ok"; readonly bytes: Buffer }
  | { readonly kind: "too_large" }
  /** The client went away mid-body: the handler must not run on a partial request. */
  | { readonly kind: "aborted" };

const MAX_DEPTH = 64;

/**
 * Nesting depth of a JSON text, scanning bytes once (strings skipped). Run
 * before JSON.parse so a 10k-deep document is refused cheaply, and nothing
 * downstream (stringify, zod) ever recurses that deep.
 */
export function jsonDepth(bytes: Buffer): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped byte
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) max = depth;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

const FORBIDDEN_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/** Parses a JSON body; refuses depth bombs and prototype-polluting keys with 400. */
export function parseJsonBody(bytes: Buffer): unknown {
  if (jsonDepth(bytes) > MAX_DEPTH) {
    throw new AppError("ERR_INVALID_REQUEST", { message: `JSON nesting deeper than ${MAX_DEPTH}`, details: [{ path: [], message: "too deeply nested" }] });
  }
  let badKey: string | undefined;
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString("utf8"), (key, v: unknown) => {
      if (FORBIDDEN_KEYS.has(key)) badKey = key;
      return v;
    });
  } catch (e) {
    throw new AppError("ERR_INVALID_JSON", { cause: e });
  }
  if (badKey !== undefined) {
    throw new AppError("ERR_INVALID_REQUEST", { message: `Key "${badKey}" is not allowed`, details: [{ path: [badKey], message: "forbidden key" }] });
  }
  return value;
}

export function isJsonContentType(ct: string | undefined): boolean {
  if (!ct) return false;
  const base = ct.split(";")[0]?.trim().toLowerCase();
  return base === "application/json" || (base !== undefined && /^application\/[a-z0-9.+-]+\+json$/.test(base));
}

/** zod-validates a value; failures become 400 invalid_request with field details. */
export function validate<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw new AppError("ERR_INVALID_REQUEST", {
    details: r.error.issues.map((i) => ({ path: i.path.map((p) => (typeof p === "symbol" ? String(p) : p)), message: i.message })),
  });
}

/** Byte length of a value as JSON, for size limits on free-form fields. */
export const jsonBytes = (v: unknown): number => Buffer.byteLength(JSON.stringify(v) ?? "");

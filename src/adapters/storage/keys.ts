import { z } from "zod";
import { idSchema, isValidId } from "../../registry/ids.js";
import type { RawAsset } from "./storage.js";

// The one place raw-storage object keys are spelled. Tenant and asset ids are
// validated ids ('/' cannot occur in them) and file names go through
// sanitizeFilename, so a key can never leave `tenants/<tenant>/raw/<asset>/`.

export const rawPrefix = (tenantId: string): string => `tenants/${tenantId}/raw/`;
export const assetPrefix = (tenantId: string, assetId: string): string => `${rawPrefix(tenantId)}${assetId}/`;
export const metaKey = (tenantId: string, assetId: string): string => `${assetPrefix(tenantId, assetId)}meta.json`;
export const contentKey = (tenantId: string, assetId: string, safeFilename: string): string =>
  `${assetPrefix(tenantId, assetId)}${safeFilename}`;

/** Both ids must be valid before they become part of a key; callers treat `false` as "not found". */
export const validIds = (tenantId: string, assetId: string): boolean => isValidId(tenantId) && isValidId(assetId);

const MAX_NAME_BYTES = 200; // keeps the whole key well under S3's 1024-byte limit
// Letters, digits and marks of any script plus a few punctuation marks that
// need no escaping in a URI path: everything else (/, \, control characters,
// spaces, ?, #, %, quotes) becomes '_'.
const UNSAFE = /[^\p{L}\p{N}\p{M}._\-+=@,()]+/gu;

/**
 * A readable file name that is exactly one safe path segment: no '/', no
 * '.'/'..', no control characters, not hidden, at most 200 UTF-8 bytes
 * (keeping a short extension when truncating); "file" when nothing is left.
 */
export function sanitizeFilename(input: string): string {
  let name = input.normalize("NFC").replace(UNSAFE, "_");
  name = name.replace(/^[._]+/, "").replace(/_+$/, ""); // no leading dot: never "..", never hidden
  if (name === "") return "file";
  if (Buffer.byteLength(name) <= MAX_NAME_BYTES) return name;
  const dot = name.lastIndexOf(".");
  const ext = dot > 0 && name.length - dot <= 16 ? name.slice(dot) : "";
  return truncateBytes(name.slice(0, name.length - ext.length), MAX_NAME_BYTES - Buffer.byteLength(ext)) + ext;
}

/** Cuts on code-point boundaries so a multi-byte character is never split. */
function truncateBytes(s: string, maxBytes: number): string {
  let out = "";
  let used = 0;
  for (const ch of s) {
    const n = Buffer.byteLength(ch);
    if (used + n > maxBytes) break;
    out += ch;
    used += n;
  }
  return out;
}

/** Parses persisted metadata: what comes back from a store is checked like any input. */
export const rawAssetSchema = z.object({
  assetId: idSchema,
  tenantId: idSchema,
  uri: z.string(),
  filename: z.string(),
  contentType: z.string(),
  bytes: z.number().int().nonnegative().nullable(),
  metadata: z.record(z.string(), z.unknown()),
  createdBy: z.string(),
  createdAt: z.string(),
  status: z.literal("registered"),
});

export const parseRawAsset = (value: unknown): RawAsset => rawAssetSchema.parse(value);

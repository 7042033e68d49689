import { z } from "zod";
import { idSchema } from "../../registry/ids.js";
import { METADATA_MAX_BYTES, MIME_PATTERN, jsonFits } from "../storage/validate.js";
import type { MediaAsset } from "./media.js";

export const MEDIA_KINDS = ["image", "video", "audio", "document", "other"] as const;
const URI_SCHEMES = new Set(["http:", "https:", "s3:"]);

/** A uri we are willing to hand back to clients: absolute, http(s) or s3, nothing else (no javascript:, file:, data:). */
const uriSchema = z
  .string()
  .min(1)
  .max(2048)
  .refine((s) => {
    try {
      const u = new URL(s);
      return URI_SCHEMES.has(u.protocol) && u.host !== "";
    } catch {
      return false; // not a URL at all
    }
  }, "must be an absolute http, https or s3 URI");

/** POST /media-v2/assets body (SPEC §4). */
export const createMediaSchema = z.object({
  tenant_id: idSchema,
  kind: z.enum(MEDIA_KINDS),
  uri: uriSchema,
  contentType: z.string().max(255).regex(MIME_PATTERN, "must be a MIME type like type/subtype").optional(),
  bytes: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).optional(),
  metadata: z
    .record(z.string(), z.unknown())
    .refine((m) => jsonFits(m, METADATA_MAX_BYTES), `must be at most ${METADATA_MAX_BYTES} bytes as JSON`)
    .optional(),
});

/** What a store gives back is checked like any input. */
const storedSchema = z.object({
  id: idSchema,
  tenantId: idSchema,
  kind: z.enum(MEDIA_KINDS),
  uri: z.string(),
  contentType: z.string().nullable(),
  bytes: z.number().int().nonnegative().nullable(),
  metadata: z.record(z.string(), z.unknown()),
  createdBy: z.string(),
  createdAt: z.string(),
});

export const parseStoredMedia = (value: unknown): MediaAsset => storedSchema.parse(value);

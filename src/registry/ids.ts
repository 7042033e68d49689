import { randomBytes } from "node:crypto";
import { z } from "zod";

// Ids are validated before they touch a key, subject, path or SQL parameter.
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
export const idSchema = z.string().regex(ID_PATTERN, "must match [A-Za-z0-9_-]{1,128}");
export const tenantIdSchema = idSchema;

export type ResourceKind = "thread" | "canvas";

/** A resource as seen from inside its tenant's namespace. */
export interface ResourceRef {
  readonly tenant: string;
  readonly kind: ResourceKind;
  readonly id: string;
}

export const isValidId = (s: string): boolean => ID_PATTERN.test(s);

/** The one place a resource's storage key is spelled; '/' cannot appear in an id. */
export const resourceKey = (r: ResourceRef): string => `${r.tenant}/${r.kind}/${r.id}`;

export function parseResourceKey(key: string): ResourceRef | undefined {
  const [tenant, kind, id, extra] = key.split("/");
  if (extra !== undefined || !tenant || !id || (kind !== "thread" && kind !== "canvas")) return undefined;
  if (!isValidId(tenant) || !isValidId(id)) return undefined;
  return { tenant, kind, id };
}

/** Parses a protocol channel (`thread:<id>` / `canvas:<id>`). */
export function parseChannel(channel: string): { kind: ResourceKind; id: string } | undefined {
  const colon = channel.indexOf(":");
  if (colon < 0) return undefined;
  const kind = channel.slice(0, colon);
  const id = channel.slice(colon + 1);
  if ((kind !== "thread" && kind !== "canvas") || !isValidId(id)) return undefined;
  return { kind, id };
}

/** Unguessable server-made ids (thread ids, asset ids): 128 bits, url-safe. */
export const newId = (prefix = ""): string => prefix + randomBytes(16).toString("base64url");

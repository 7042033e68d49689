import { AppError } from "../errors/index.js";
import { isValidId, type ResourceRef } from "../registry/ids.js";

// Every NATS subject, Redis channel, JetStream stream and KV bucket name that
// switchyard uses is spelled here, over one prefix (NATS_PREFIX). Call sites
// never concatenate subjects: a tenant or id that is not a plain token would
// otherwise become a wildcard (`*`, `>`) or a new token (`.`) and let one
// tenant read another's events.

const PREFIX = /^[A-Za-z0-9_-]{1,32}$/;

function token(label: string, value: string): string {
  if (!isValidId(value)) {
    throw new AppError("ERR_INVALID_REQUEST", { message: `${label} must match [A-Za-z0-9_-]{1,128}`, details: { field: label } });
  }
  return value;
}

function kindToken(kind: string): ResourceRef["kind"] {
  if (kind !== "thread" && kind !== "canvas") {
    throw new AppError("ERR_INVALID_REQUEST", { message: "kind must be thread or canvas", details: { field: "kind" } });
  }
  return kind;
}

const resourceTokens = (r: ResourceRef): string => `${token("tenant", r.tenant)}.${kindToken(r.kind)}.${token("id", r.id)}`;

/** Dedupe keys are client-chosen free text: base64url makes any of them one safe token. */
const keyToken = (key: string): string => {
  if (key.length === 0 || key.length > 256) {
    throw new AppError("ERR_INVALID_REQUEST", { message: "dedupe key must be 1..256 characters", details: { field: "dedupeKey" } });
  }
  return Buffer.from(key, "utf8").toString("base64url");
};

export interface Subjects {
  readonly prefix: string;
  /** Fan-out of one resource's events (core NATS / Redis channel). */
  event(ref: ResourceRef): string;
  /** Forwarded publishes for `ref`, addressed to the owning node. */
  owner(nodeId: string, ref: ResourceRef): string;
  /** What a node subscribes to (respond) to receive every forward addressed to it. */
  ownerAll(nodeId: string): string;
  /** Redis request-reply inbox of one bus connection. */
  inbox(connectionId: string): string;
  /** JetStream: one stream for all event logs, subjects under `logAll`. */
  readonly logStream: string;
  readonly logAll: string;
  logEvents(ref: ResourceRef): string;
  logEpoch(ref: ResourceRef): string;
  logDedupe(ref: ResourceRef, dedupeKey: string): string;
  /** JetStream KV bucket names. */
  readonly registryBucket: string;
  readonly membersBucket: string;
  readonly flagsBucket: string;
  /** KV keys (KV keys may contain dots; each part is a validated token). */
  registryKey(ref: ResourceRef): string;
  registryKeysOf(tenant: string, kind: ResourceRef["kind"]): string;
  memberKey(nodeId: string): string;
}

export function subjects(prefix: string): Subjects {
  if (!PREFIX.test(prefix)) {
    throw new AppError("ERR_INTERNAL", { message: "bus prefix must match [A-Za-z0-9_-]{1,32}" });
  }
  // Stream and bucket names may not contain '.'; '_' joins the prefix instead.
  const p = prefix;
  return {
    prefix: p,
    event: (ref) => `${p}.ev.${resourceTokens(ref)}`,
    owner: (nodeId, ref) => `${p}.own.${token("nodeId", nodeId)}.${resourceTokens(ref)}`,
    ownerAll: (nodeId) => `${p}.own.${token("nodeId", nodeId)}.>`,
    inbox: (connectionId) => `${p}.inbox.${token("connectionId", connectionId)}`,
    logStream: `${p}_log`,
    logAll: `${p}.log.>`,
    logEvents: (ref) => `${p}.log.ev.${resourceTokens(ref)}`,
    logEpoch: (ref) => `${p}.log.ep.${resourceTokens(ref)}`,
    logDedupe: (ref, key) => `${p}.log.dk.${resourceTokens(ref)}.${keyToken(key)}`,
    registryBucket: `${p}_registry`,
    membersBucket: `${p}_members`,
    flagsBucket: `${p}_flags`,
    registryKey: (ref) => resourceTokens(ref),
    registryKeysOf: (tenant, kind) => `${token("tenant", tenant)}.${kindToken(kind)}.*`,
    memberKey: (nodeId) => token("nodeId", nodeId),
  };
}

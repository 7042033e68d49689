import type { Flag, FlagRecord } from "./flags.js";

// Coded global defaults: what every tenant sees when nothing is stored. Changing a default is a
// code change (reviewed, versioned), which is the point: a fresh or unreachable store still
// yields sane behaviour.
export interface FlagDefault {
  readonly enabled: boolean;
  readonly rollout: number;
  readonly description: string;
}

/** When this table last changed; reported as updatedAt of a coded default. */
export const DEFAULTS_UPDATED_AT = "2026-01-01T00:00:00.000Z";

export const DEFAULT_FLAGS: Readonly<Record<string, FlagDefault>> = Object.freeze({
  "chat.enabled": { enabled: true, rollout: 100, description: "Chat threads and messages" },
  "canvas.enabled": { enabled: true, rollout: 100, description: "Collaborative canvases" },
  "ws.compression": { enabled: false, rollout: 100, description: "WebSocket permessage-deflate (SPEC §5: off by default)" },
  "datasets.ingest": { enabled: true, rollout: 100, description: "Accept dataset events on POST /logging/events" },
});

/** Own-property lookup: "constructor" is a valid flag key and must not find Object.prototype's. */
export const codedDefault = (coded: Readonly<Record<string, FlagDefault>>, key: string): FlagDefault | undefined =>
  Object.hasOwn(coded, key) ? coded[key] : undefined;

type Layer = { readonly enabled: boolean; readonly rollout: number; readonly description?: string; readonly updatedAt: string };

/** One effective flag from its layers (override > stored global > coded default). */
export function effectiveFlag(
  key: string,
  coded: FlagDefault | undefined,
  global: FlagRecord | undefined,
  override: FlagRecord | undefined,
): Flag | undefined {
  const base: Layer | undefined = global ?? (coded && { ...coded, updatedAt: DEFAULTS_UPDATED_AT });
  const top = override ?? base;
  if (!top) return undefined;
  const description = top.description ?? base?.description ?? coded?.description ?? "";
  return {
    key,
    enabled: top.enabled,
    rollout: top.rollout,
    description,
    scope: override ? "tenant" : "global",
    updatedAt: top.updatedAt,
  };
}

export function mergeEffective(
  coded: Readonly<Record<string, FlagDefault>>,
  globals: ReadonlyMap<string, FlagRecord>,
  overrides: ReadonlyMap<string, FlagRecord>,
): Flag[] {
  const keys = new Set([...Object.keys(coded), ...globals.keys(), ...overrides.keys()]);
  const out: Flag[] = [];
  for (const key of [...keys].sort()) {
    const f = effectiveFlag(key, codedDefault(coded, key), globals.get(key), overrides.get(key));
    if (f) out.push(f);
  }
  return out;
}

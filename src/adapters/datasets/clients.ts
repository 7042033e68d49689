import type { Firestore } from "@google-cloud/firestore";
import type { Config } from "../../config/index.js";
import type { BigQueryLike } from "./bigquery.js";
import type { FallbackKind } from "./fallback.js";

// Building the cloud SDK clients lazily: the packages are loaded with a dynamic import, so a
// deployment without them (or with a broken install) still starts and falls back.

export type Loaded<T> = { ok: true; client: T; owned: boolean } | { ok: false; kind: FallbackKind; reason: string };

export interface ClientDeps {
  /** An injected client wins over building one (tests; a supervisor sharing one client). */
  readonly firestore?: Firestore;
  readonly bigquery?: BigQueryLike;
  /** `host:port` of a Firestore emulator (the lead passes FIRESTORE_EMULATOR_HOST through config). */
  readonly firestoreEmulatorHost?: string;
  /** Seam for tests: how a package is imported. */
  readonly importModule?: (name: string) => Promise<unknown>;
}

const defaultImport = (name: string): Promise<unknown> => import(name);

export async function loadFirestore(config: Config, deps: ClientDeps): Promise<Loaded<Firestore>> {
  if (deps.firestore) return { ok: true, client: deps.firestore, owned: false };
  const projectId = config.FIRESTORE_PROJECT_ID;
  if (!projectId) return { ok: false, kind: "not_configured", reason: "FIRESTORE_PROJECT_ID is not set" };
  let mod: { Firestore: typeof Firestore };
  try {
    mod = (await (deps.importModule ?? defaultImport)("@google-cloud/firestore")) as { Firestore: typeof Firestore };
  } catch (e) {
    return { ok: false, kind: "load_failed", reason: `cannot load @google-cloud/firestore: ${e instanceof Error ? e.message : String(e)}` };
  }
  const host = deps.firestoreEmulatorHost;
  const client = new mod.Firestore(host ? { projectId, host, ssl: false } : { projectId });
  return { ok: true, client, owned: true };
}

export async function loadBigQuery(config: Config, deps: ClientDeps): Promise<Loaded<BigQueryLike>> {
  if (deps.bigquery) return { ok: true, client: deps.bigquery, owned: false };
  const projectId = config.BIGQUERY_PROJECT_ID;
  if (!projectId) return { ok: false, kind: "not_configured", reason: "BIGQUERY_PROJECT_ID is not set" };
  try {
    const mod = (await (deps.importModule ?? defaultImport)("@google-cloud/bigquery")) as { BigQuery: new (o: { projectId: string }) => BigQueryLike };
    return { ok: true, client: new mod.BigQuery({ projectId }), owned: true };
  } catch (e) {
    return { ok: false, kind: "load_failed", reason: `cannot load @google-cloud/bigquery: ${e instanceof Error ? e.message : String(e)}` };
  }
}

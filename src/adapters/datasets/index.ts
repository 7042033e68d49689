import { Counter, type Registry } from "prom-client";
import type { Config } from "../../config/index.js";
import type { Logger } from "../../observability/logger.js";
import { DirectBackend, SpooledBackend, type DatasetBackend } from "./backend.js";
import { BigQueryDatasetSink } from "./bigquery.js";
import { loadBigQuery, loadFirestore, type ClientDeps, type Loaded } from "./clients.js";
import type { DatasetSink } from "./datasets.js";
import type { DrainerOptions } from "./drainer.js";
import { fallbackMetrics, type FallbackState } from "./fallback.js";
import { FirestoreDatasetSink } from "./firestore.js";
import { MemoryDatasetSink } from "./memory.js";
import { DatasetSpool } from "./spool.js";

export * from "./datasets.js";
export type { DatasetBackend } from "./backend.js";
export { MemoryDatasetSink } from "./memory.js";
export { FirestoreDatasetSink } from "./firestore.js";
export { BigQueryDatasetSink, type BigQueryLike, type BigQueryTableLike, type BigQueryRawRow, type BigQueryEventRow } from "./bigquery.js";
export { DatasetSpool, SPOOL_FILE } from "./spool.js";
export { DatasetsService, type DatasetsContext, type AuditEntry, AUDIT_DATASET } from "./service.js";

export interface DatasetBackendDeps extends ClientDeps {
  readonly logger: Logger;
  readonly registry?: Registry;
  /** Where the spool lives; defaults to config.DATA_DIR. */
  readonly dataDir?: string;
  /** Firestore collection prefix (tests isolate with a random one). */
  readonly prefix?: string;
  /** BigQuery table id inside BIGQUERY_DATASET. */
  readonly bigqueryTable?: string;
  /** How long start-up waits for the backend to answer before falling back (default 3 s). */
  readonly probeTimeoutMs?: number;
  readonly directTimeoutMs?: number;
  readonly drain?: DrainerOptions;
}

// Exhaustive over NEXUS_BACKEND. A cloud backend that cannot load, is not configured or does
// not answer at start is replaced by the durable spool — declared (one warn, a metric, the
// /readyz text), never silent — and the drainer keeps trying so the backend takes over, with
// every spooled event in order, once it answers.
export async function getDatasetBackend(config: Config, deps: DatasetBackendDeps): Promise<DatasetBackend> {
  const kind = config.NEXUS_BACKEND;
  switch (kind) {
    case "memory":
      return new DirectBackend(boundedMemorySink(config, deps));
    case "firestore": {
      const loaded = await loadFirestore(config, deps);
      const sink = loaded.ok ? new FirestoreDatasetSink(loaded.client, { prefix: deps.prefix ?? `${config.NATS_PREFIX}_` }) : undefined;
      const onClose = loaded.ok && loaded.owned ? () => loaded.client.terminate() : undefined;
      return spooled("firestore", loaded, sink, config, deps, onClose);
    }
    case "bigquery": {
      const loaded = await loadBigQuery(config, deps);
      const sink = loaded.ok
        ? new BigQueryDatasetSink(loaded.client, { projectId: config.BIGQUERY_PROJECT_ID ?? "unknown", datasetId: config.BIGQUERY_DATASET, tableId: deps.bigqueryTable })
        : undefined;
      return spooled("bigquery", loaded, sink, config, deps, undefined);
    }
    default: {
      const never: never = kind;
      throw new Error(`NEXUS_BACKEND: unknown backend ${String(never)}`);
    }
  }
}

/** The memory sink with its bound from config: a metric counts what it drops, and the first drop is logged. */
function boundedMemorySink(config: Config, deps: DatasetBackendDeps): MemoryDatasetSink {
  const name = "switchyard_datasets_memory_evicted_total";
  const evicted = deps.registry
    ? ((deps.registry.getSingleMetric(name) as Counter | undefined) ??
      new Counter({ name, help: "Dataset events dropped by the memory backend at NEXUS_MEMORY_MAX_EVENTS (oldest first)", registers: [deps.registry] }))
    : undefined;
  let warned = false;
  return new MemoryDatasetSink(config.NEXUS_MEMORY_MAX_EVENTS, (n) => {
    evicted?.inc(n);
    if (warned) return;
    warned = true;
    deps.logger.warn(
      { adapter: "datasets", maxEvents: config.NEXUS_MEMORY_MAX_EVENTS },
      "memory datasets backend is full: dropping the oldest events (raise NEXUS_MEMORY_MAX_EVENTS, or use firestore or bigquery to keep every event)",
    );
  });
}

async function spooled(
  wanted: "firestore" | "bigquery",
  loaded: Loaded<unknown>,
  sink: DatasetSink | undefined,
  config: Config,
  deps: DatasetBackendDeps,
  onClose: (() => Promise<void>) | undefined,
): Promise<DatasetBackend> {
  let initialFallback: FallbackState | undefined;
  if (!loaded.ok) initialFallback = { wanted, using: "spool", kind: loaded.kind, reason: loaded.reason };
  else if (sink) {
    const probe = await probeHealth(sink, deps.probeTimeoutMs ?? 3000);
    if (probe) initialFallback = { wanted, using: "spool", kind: "unreachable", reason: probe };
  }
  return new SpooledBackend({
    wanted,
    sink,
    spool: new DatasetSpool(deps.dataDir ?? config.DATA_DIR),
    logger: deps.logger,
    metrics: fallbackMetrics(deps.registry),
    registry: deps.registry,
    initialFallback,
    directTimeoutMs: deps.directTimeoutMs,
    drain: deps.drain,
    onClose,
  });
}

/** undefined when healthy, else why not. */
async function probeHealth(sink: DatasetSink, ms: number): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => (timer = setTimeout(() => resolve(`no answer within ${ms} ms`), ms)));
  try {
    return await Promise.race([sink.health().then((h) => (h.ok ? undefined : h.detail ?? "unhealthy")), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

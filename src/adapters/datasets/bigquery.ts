import { pageOf, SinkError, type DatasetEvent, type DatasetPage, type DatasetQuery, type DatasetSink, type SinkHealth } from "./datasets.js";

// The slice of @google-cloud/bigquery this sink uses, so tests inject a fake (there is no
// BigQuery emulator: the contract against the real service is untested here).
export interface BigQueryTableLike {
  insert(rows: BigQueryRawRow[], options: { raw: true; skipInvalidRows: boolean; ignoreUnknownValues: boolean }): Promise<unknown>;
  exists(): Promise<[boolean]>;
}
export interface BigQueryLike {
  dataset(id: string): { table(id: string): BigQueryTableLike };
  query(q: { query: string; params: Record<string, string | number>; location?: string }): Promise<[Record<string, unknown>[], ...unknown[]]>;
}
export interface BigQueryRawRow {
  insertId: string;
  json: BigQueryEventRow;
}
export interface BigQueryEventRow {
  event_id: string;
  tenant_id: string;
  type: string;
  dataset: string;
  payload: string;
  occurred_at: string;
  received_at: string;
  actor: string | null;
}

export interface BigQueryDatasetSinkOptions {
  readonly projectId: string;
  readonly datasetId: string;
  readonly tableId?: string;
}

// insertId = eventId: BigQuery drops a retried row with the same insertId (best effort, about a
// minute), and list() deduplicates by event_id for replays older than that.
export class BigQueryDatasetSink implements DatasetSink {
  readonly backend = "bigquery" as const;
  private readonly table: BigQueryTableLike;
  private readonly fqTable: string;

  constructor(private readonly bq: BigQueryLike, opts: BigQueryDatasetSinkOptions) {
    const tableId = opts.tableId ?? "dataset_events";
    for (const [name, v] of [["projectId", opts.projectId], ["datasetId", opts.datasetId], ["tableId", tableId]] as const) {
      if (!/^[A-Za-z0-9_-]{1,1024}$/.test(v)) throw new Error(`BigQueryDatasetSink: bad ${name} ${v}`);
    }
    this.table = bq.dataset(opts.datasetId).table(tableId);
    this.fqTable = `\`${opts.projectId}.${opts.datasetId}.${tableId}\``;
  }

  async write(events: readonly DatasetEvent[]): Promise<void> {
    if (events.length === 0) return;
    const rows = events.map((e) => ({ insertId: e.eventId, json: toRow(e) }));
    try {
      // skipInvalidRows false: a bad row stops the whole request, so "rejected" is exact and
      // the other rows ("stopped") are simply retried.
      await this.table.insert(rows, { raw: true, skipInvalidRows: false, ignoreUnknownValues: false });
    } catch (e) {
      throw translate(e);
    }
  }

  async list(tenantId: string, q: DatasetQuery): Promise<DatasetPage> {
    const params: Record<string, string | number> = { tenant: tenantId, limit: q.limit + 1 };
    const where = ["tenant_id = @tenant"];
    if (q.dataset !== undefined) (params.dataset = q.dataset), where.push("dataset = @dataset");
    if (q.after !== undefined) (params.after = q.after), where.push("event_id > @after");
    const query =
      `SELECT * EXCEPT(rn) FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY event_id ORDER BY received_at) AS rn ` +
      `FROM ${this.fqTable} WHERE ${where.join(" AND ")}) WHERE rn = 1 ORDER BY event_id LIMIT @limit`;
    try {
      const [rows] = await this.bq.query({ query, params });
      return pageOf(rows.map(fromRow), q.limit);
    } catch (e) {
      throw translate(e);
    }
  }

  async health(): Promise<SinkHealth> {
    try {
      const [exists] = await this.table.exists();
      return exists ? { ok: true, backend: "bigquery" } : { ok: false, backend: "bigquery", detail: `table ${this.fqTable} does not exist` };
    } catch (e) {
      return { ok: false, backend: "bigquery", detail: translate(e).message };
    }
  }

  async close(): Promise<void> {}
}

export function toRow(e: DatasetEvent): BigQueryEventRow {
  return {
    event_id: e.eventId,
    tenant_id: e.tenantId,
    type: e.type,
    dataset: e.dataset,
    payload: JSON.stringify(e.payload),
    occurred_at: e.occurredAt,
    received_at: e.receivedAt,
    actor: e.actor ?? null,
  };
}

/** Rows come back from a query with TIMESTAMP columns as {value} objects or strings. */
export function fromRow(r: Record<string, unknown>): DatasetEvent {
  const text = (v: unknown): string => (v && typeof v === "object" && "value" in v ? String((v as { value: unknown }).value) : String(v));
  const iso = (v: unknown): string => new Date(text(v)).toISOString();
  const e: DatasetEvent = {
    eventId: text(r.event_id),
    tenantId: text(r.tenant_id),
    type: text(r.type),
    dataset: text(r.dataset),
    payload: JSON.parse(text(r.payload)) as Record<string, unknown>,
    occurredAt: iso(r.occurred_at),
    receivedAt: iso(r.received_at),
  };
  return typeof r.actor === "string" ? { ...e, actor: r.actor } : e;
}

type PartialFailure = { name?: string; errors?: { row?: { insertId?: string }; errors?: { reason?: string; message?: string }[] }[] };

export function translate(e: unknown): SinkError {
  if (e instanceof SinkError) return e;
  const pf = e as PartialFailure;
  if (pf?.name === "PartialFailureError" && Array.isArray(pf.errors)) {
    const rejected = new Map<string, string>();
    for (const f of pf.errors) {
      const bad = f.errors?.find((x) => x.reason !== "stopped");
      if (bad && f.row?.insertId) rejected.set(f.row.insertId, `${bad.reason ?? "invalid"}: ${bad.message ?? ""}`);
    }
    return new SinkError(`bigquery: ${rejected.size} row(s) rejected`, { retryable: true, rejected, cause: e });
  }
  const code = (e as { code?: unknown } | null)?.code;
  const msg = e instanceof Error ? e.message : String(e);
  // 400 on the whole request (not a row) means our request is malformed: retrying cannot help.
  return new SinkError(`bigquery${typeof code === "number" ? ` ${code}` : ""}: ${msg}`, { retryable: code !== 400, cause: e });
}

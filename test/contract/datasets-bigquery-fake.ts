import type { BigQueryLike, BigQueryRawRow, BigQueryTableLike } from "../../src/adapters/datasets/index.js";

// BigQuery has no emulator (npm, Debian or gcloud), so the BigQuery sink runs its contract
// against this fake of the SDK's surface. It mimics what the adapter depends on: insertAll
// with raw rows and insertId dedupe, schema checks that raise PartialFailureError shaped like
// the SDK's, TIMESTAMP columns returned as {value} objects, and the list query's parameters.
// The real service's behaviour (dedupe window, streaming buffer) is NOT tested here.

const COLUMNS = ["event_id", "tenant_id", "type", "dataset", "payload", "occurred_at", "received_at", "actor"];

export class FakeBigQuery implements BigQueryLike {
  readonly rows: BigQueryRawRow["json"][] = [];
  readonly insertIds = new Set<string>();
  readonly queries: { query: string; params: Record<string, string | number> }[] = [];
  tableExists = true;
  failNext: unknown[] = [];

  dataset(_id: string): { table(id: string): BigQueryTableLike } {
    return { table: () => this.table };
  }

  private readonly table: BigQueryTableLike = {
    insert: async (rows) => {
      const next = this.failNext.shift();
      if (next) throw next;
      if (!this.tableExists) throw Object.assign(new Error("Not found: Table"), { code: 404 });
      const errors = rows.flatMap((r, index) => {
        const bad = Object.keys(r.json).find((k) => !COLUMNS.includes(k)) ?? (typeof r.json.payload !== "string" ? "payload" : undefined);
        return bad ? [{ index, reason: "invalid", message: `no such field or bad type: ${bad}` }] : [];
      });
      if (errors.length > 0) {
        // skipInvalidRows=false: nothing is inserted; the other rows are reported "stopped".
        throw Object.assign(new Error("A failure occurred during this request."), {
          name: "PartialFailureError",
          errors: rows.map((row, i) => ({ row, errors: errors.filter((e) => e.index === i).map(({ reason, message }) => ({ reason, message })).concat(errors.some((e) => e.index === i) ? [] : [{ reason: "stopped", message: "" }]) })),
        });
      }
      for (const r of rows) {
        if (this.insertIds.has(r.insertId)) continue; // insertId dedupe
        this.insertIds.add(r.insertId);
        this.rows.push({ ...r.json });
      }
      return [{}];
    },
    exists: async () => [this.tableExists],
  };

  async query(q: { query: string; params: Record<string, string | number> }): Promise<[Record<string, unknown>[]]> {
    this.queries.push(q);
    const p = q.params;
    const needs = (clause: string, present: boolean) => {
      if (q.query.includes(clause) !== present) throw new Error(`fake BigQuery: query/params mismatch on ${clause}`);
    };
    needs("tenant_id = @tenant", true);
    needs("dataset = @dataset", p.dataset !== undefined);
    needs("event_id > @after", p.after !== undefined);
    const out = this.rows
      .filter((r) => r.tenant_id === p.tenant && (p.dataset === undefined || r.dataset === p.dataset) && (p.after === undefined || r.event_id > String(p.after)))
      .sort((a, b) => (a.event_id < b.event_id ? -1 : 1))
      .slice(0, Number(p.limit))
      .map((r) => ({ ...r, occurred_at: { value: r.occurred_at }, received_at: { value: r.received_at } }));
    return [out];
  }
}

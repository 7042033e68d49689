import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BigQueryDatasetSink, SinkError, newEventId } from "../../../../src/adapters/datasets/index.js";
import { fromRow, toRow, translate } from "../../../../src/adapters/datasets/bigquery.js";
import { FakeBigQuery } from "../../../contract/datasets-bigquery-fake.js";

const ev = (over = {}) => ({
  eventId: newEventId(new Date("2026-05-01T00:00:00Z")),
  tenantId: "t1",
  type: "x",
  dataset: "events",
  payload: { a: [1, [2]] },
  occurredAt: "2026-05-01T00:00:00.000Z",
  receivedAt: "2026-05-01T00:00:01.000Z",
  ...over,
});

describe("BigQueryDatasetSink: row mapping and error translation (no emulator exists)", () => {
  it("maps events to snake_case rows with JSON payload text, and back from query rows", () => {
    const e = { ...ev(), actor: "alice" };
    const row = toRow(e);
    assert.deepEqual(row, {
      event_id: e.eventId, tenant_id: "t1", type: "x", dataset: "events", payload: '{"a":[1,[2]]}',
      occurred_at: e.occurredAt, received_at: e.receivedAt, actor: "alice",
    });
    assert.equal(toRow(ev()).actor, null);
    // Query results carry TIMESTAMP columns as BigQueryTimestamp {value}; some paths give strings.
    assert.deepEqual(fromRow({ ...row, occurred_at: { value: "2026-05-01T00:00:00.000Z" }, received_at: "2026-05-01 00:00:01 UTC" }), e);
  });

  it("sends insertId = eventId with raw rows and skipInvalidRows off", async () => {
    const fake = new FakeBigQuery();
    const sink = new BigQueryDatasetSink(fake, { projectId: "p", datasetId: "d" });
    const e = ev();
    await sink.write([e]);
    await sink.write([e]);
    assert.deepEqual([...fake.insertIds], [e.eventId]);
    assert.equal(fake.rows.length, 1);
  });

  it("a PartialFailureError names only the invalid rows as rejected; 'stopped' rows stay retryable", async () => {
    const fake = new FakeBigQuery();
    const sink = new BigQueryDatasetSink(fake, { projectId: "p", datasetId: "d" });
    const good = ev();
    const bad = ev();
    fake.failNext.push(Object.assign(new Error("partial"), {
      name: "PartialFailureError",
      errors: [
        { row: { insertId: good.eventId }, errors: [{ reason: "stopped", message: "" }] },
        { row: { insertId: bad.eventId }, errors: [{ reason: "invalid", message: "no such field: x" }] },
      ],
    }));
    await assert.rejects(sink.write([good, bad]), (e: unknown) => {
      assert.ok(e instanceof SinkError);
      assert.equal(e.retryable, true);
      assert.deepEqual([...e.rejected.keys()], [bad.eventId]);
      assert.match(e.rejected.get(bad.eventId)!, /invalid: no such field/);
      assert.ok(e.cause, "keeps the SDK error as cause");
      return true;
    });
  });

  it("translates API errors: 5xx/429/404/network retryable, a malformed request (400) not", () => {
    for (const code of [500, 503, 429, 404, 403]) assert.equal(translate(Object.assign(new Error("x"), { code })).retryable, true, String(code));
    assert.equal(translate(new Error("socket hang up")).retryable, true);
    const e400 = translate(Object.assign(new Error("bad request"), { code: 400 }));
    assert.equal(e400.retryable, false);
    assert.match(e400.message, /bigquery 400: bad request/);
  });

  it("health reports a missing table; list queries with parameters only (no string-built values)", async () => {
    const fake = new FakeBigQuery();
    const sink = new BigQueryDatasetSink(fake, { projectId: "p", datasetId: "d", tableId: "t" });
    fake.tableExists = false;
    const h = await sink.health();
    assert.equal(h.ok, false);
    assert.match(h.detail ?? "", /`p\.d\.t` does not exist/);
    await sink.list("t'1", { dataset: "a", after: "ev_0", limit: 5 });
    const q = fake.queries[0]!;
    assert.deepEqual(q.params, { tenant: "t'1", dataset: "a", after: "ev_0", limit: 6 });
    assert.ok(!q.query.includes("t'1"), "values never reach the SQL text");
    assert.match(q.query, /ROW_NUMBER\(\) OVER \(PARTITION BY event_id/);
    assert.throws(() => new BigQueryDatasetSink(fake, { projectId: "p`; DROP", datasetId: "d" }), /bad projectId/);
  });
});

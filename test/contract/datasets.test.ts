import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";
import { BigQueryDatasetSink, DatasetSpool, FirestoreDatasetSink, MemoryDatasetSink } from "../../src/adapters/datasets/index.js";
import { emulatorSkipReason, startFirestoreEmulator, type FirestoreEmulator } from "../helpers/firestore-emulator.js";
import { describeDatasetSinkContract } from "./datasets.contract.js";
import { FakeBigQuery } from "./datasets-bigquery-fake.js";

describeDatasetSinkContract("memory", async () => ({ sink: new MemoryDatasetSink() }));

describeDatasetSinkContract("spool (SQLite under DATA_DIR)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sy-spool-"));
  return { sink: new DatasetSpool(dir), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
});

if (!emulatorSkipReason()) {
  let emu: FirestoreEmulator;
  before(async () => {
    emu = await startFirestoreEmulator();
  });
  after(async () => emu?.dispose());
  describeDatasetSinkContract("firestore (emulator)", async () => ({
    sink: new FirestoreDatasetSink(emu.client(), { prefix: `t${randomBytes(4).toString("hex")}_` }),
  }));
}

// No BigQuery emulator exists: an injected fake of the SDK surface (see datasets-bigquery-fake.ts).
describeDatasetSinkContract("bigquery (injected fake client; real service untested)", async () => ({
  sink: new BigQueryDatasetSink(new FakeBigQuery(), { projectId: "demo", datasetId: "switchyard" }),
}));

import assert from "node:assert/strict";
import net from "node:net";
import { test } from "node:test";
import { createRawStorage, MemoryStorage, RawAssetsService, S3Storage } from "../../../../src/adapters/storage/index.js";
import { configFrom } from "../../../../src/config/index.js";
import { AppError } from "../../../../src/errors/index.js";

test("createRawStorage builds the backend the config names, and describe() names it for /readyz", async () => {
  const mem = createRawStorage(configFrom({}));
  assert.ok(mem instanceof MemoryStorage);
  assert.equal(mem.describe(), "memory (not durable)");
  const s3 = createRawStorage(configFrom({ RAW_STORAGE_BACKEND: "s3", S3_BUCKET: "raw-b", S3_ENDPOINT: "http://127.0.0.1:1" }));
  assert.ok(s3 instanceof S3Storage);
  assert.equal(s3.describe(), "s3 (bucket raw-b)");
  await s3.close();
});

test("s3 configured but unreachable: register answers ERR_NOT_READY within seconds, never falls back to memory", async (t) => {
  // A port that was just free and is closed again: connections are refused.
  const port = await new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
  const storage = createRawStorage(configFrom({
    RAW_STORAGE_BACKEND: "s3", S3_BUCKET: "raw", S3_ENDPOINT: `http://127.0.0.1:${port}`, S3_FORCE_PATH_STYLE: "true",
    S3_ACCESS_KEY_ID: "AK", S3_SECRET_ACCESS_KEY: "SK",
  }));
  t.after(() => storage.close());
  const svc = new RawAssetsService({ storage, presignTtlS: 60 });
  const started = Date.now();
  const err = await svc.register({ tenantId: "t1", userId: "u" }, { filename: "a", contentType: "text/plain" }).then(
    () => assert.fail("registered without a store"),
    (e: unknown) => e,
  );
  assert.ok(err instanceof AppError);
  assert.equal(err.key, "ERR_NOT_READY");
  assert.ok((err.retryAfterS ?? 0) > 0);
  assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
  const h = await storage.health();
  assert.equal(h.ok, false);
  assert.match(h.detail, /^s3 \(bucket raw\)/);
});

test("MemoryStorage takes an injected clock for presign expiry", async () => {
  const storage = new MemoryStorage({ now: () => Date.parse("2030-01-01T00:00:00Z") });
  const svc = new RawAssetsService({ storage, presignTtlS: 90, now: () => Date.parse("2030-01-01T00:00:00Z"), newId: () => "asset1" });
  const a = await svc.register({ tenantId: "t1", userId: "u" }, { filename: "a b.txt", contentType: "text/plain" });
  assert.equal(a.assetId, "asset1");
  assert.equal(a.createdAt, "2030-01-01T00:00:00.000Z");
  assert.equal(a.upload.expiresAt, "2030-01-01T00:01:30.000Z");
  assert.equal(a.uri, "memory://tenants/t1/raw/asset1/a_b.txt");
  assert.match(a.upload.url, /^memory:\/\/tenants\/t1\/raw\/asset1\/a_b\.txt\?expires=/);
});

test("the memory backend holds RAW_MEMORY_MAX_ASSETS assets across tenants, then refuses with limit_exceeded and keeps every one it took", async () => {
  const storage = createRawStorage(configFrom({ RAW_MEMORY_MAX_ASSETS: "3" }));
  const svc = new RawAssetsService({ storage, presignTtlS: 60 });
  const made = [
    await svc.register({ tenantId: "t1", userId: "u" }, { filename: "a", contentType: "text/plain" }),
    await svc.register({ tenantId: "t1", userId: "u" }, { filename: "b", contentType: "text/plain" }),
    await svc.register({ tenantId: "t2", userId: "u" }, { filename: "c", contentType: "text/plain" }),
  ];
  const err = await svc.register({ tenantId: "t3", userId: "u" }, { filename: "d", contentType: "text/plain" }).then(
    () => assert.fail("registered past the bound"),
    (e: unknown) => e,
  );
  assert.ok(err instanceof AppError);
  assert.equal(err.key, "ERR_LIMIT_EXCEEDED");
  assert.equal(err.status, 400);
  assert.match(err.message, /RAW_MEMORY_MAX_ASSETS=3/);
  for (const a of made) assert.equal((await storage.getMetadata(a.tenantId, a.assetId))?.filename, a.filename);
  assert.equal((await storage.listMetadata("t3", { limit: 10 })).items.length, 0, "the refused asset left nothing behind");
});

test("RAW_MEMORY_MAX_ASSETS is validated: 0 and non-numbers are refused at start", () => {
  assert.throws(() => configFrom({ RAW_MEMORY_MAX_ASSETS: "0" }), /RAW_MEMORY_MAX_ASSETS/);
  assert.throws(() => configFrom({ RAW_MEMORY_MAX_ASSETS: "lots" }), /RAW_MEMORY_MAX_ASSETS/);
  assert.equal(configFrom({}).RAW_MEMORY_MAX_ASSETS, 20_000);
});

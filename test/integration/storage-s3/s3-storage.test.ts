import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client,
} from "@aws-sdk/client-s3";
import { buildS3Client, RawAssetsService, S3Storage, sanitizeFilename } from "../../../src/adapters/storage/index.js";
import { metaKey } from "../../../src/adapters/storage/keys.js";
import type { Config } from "../../../src/config/index.js";
import { AppError } from "../../../src/errors/index.js";
import { newId } from "../../../src/registry/ids.js";
import { cephSkipReason, s3ConfigFor, startCephRgw, type CephRgw } from "../../helpers/ceph-rgw.js";
import { rejectsWith, sampleAsset } from "../../contract/storage-contract.js";

// What only a real S3 server can show: SigV4 presigned PUTs and their expiry,
// conditional writes, key layout, and an outage of the gateway itself.

const skip = cephSkipReason();
const BUCKET = "raw-it";
const ctxOf = (tenantId: string) => ({ tenantId, userId: "bob" });
const tenant = (): string => `t-${newId()}`;

describe("S3Storage on Ceph RGW", { skip }, () => {
  let rgw: CephRgw;
  let config: Config;
  let admin: S3Client; // direct SDK access to check what really is in the bucket
  let storage: S3Storage;
  let svc: RawAssetsService;

  before(async () => {
    rgw = await startCephRgw();
    config = s3ConfigFor(rgw, BUCKET);
    admin = buildS3Client(config);
    await admin.send(new CreateBucketCommand({ Bucket: BUCKET }));
    storage = new S3Storage({ client: buildS3Client(config), bucket: BUCKET });
    svc = new RawAssetsService({ storage, presignTtlS: 300 });
  });
  after(async () => {
    admin?.destroy();
    await storage?.close();
    await rgw?.stop();
  });

  test("metadata is meta.json next to the content, and a presigned PUT with plain fetch stores the content", async () => {
    const t = tenant();
    const a = await svc.register(ctxOf(t), { filename: "notes.txt", contentType: "text/plain; charset=utf-8", bytes: 11 });
    assert.equal(a.uri, `s3://${BUCKET}/tenants/${t}/raw/${a.assetId}/notes.txt`);
    const meta = await admin.send(new GetObjectCommand({ Bucket: BUCKET, Key: metaKey(t, a.assetId) }));
    const { upload: _u, ...persisted } = a;
    assert.deepEqual(JSON.parse(await meta.Body!.transformToString()), persisted);

    const res = await fetch(a.upload.url, { method: "PUT", body: "hello world", headers: { "content-type": a.contentType } });
    assert.equal(res.status, 200, await res.text());
    const obj = await admin.send(new GetObjectCommand({ Bucket: BUCKET, Key: `tenants/${t}/raw/${a.assetId}/notes.txt` }));
    assert.equal(await obj.Body!.transformToString(), "hello world");
    assert.equal(obj.ContentType, a.contentType);
  });

  test("a presigned URL is bound to its signature: another content type is refused", async () => {
    const a = await svc.register(ctxOf(tenant()), { filename: "a.bin", contentType: "application/octet-stream" });
    const res = await fetch(a.upload.url, { method: "PUT", body: "x", headers: { "content-type": "text/html" } });
    assert.equal(res.status, 403);
  });

  test("an expired presigned URL (ttl 1 s) is refused with 403 and writes nothing", async () => {
    const t = tenant();
    const asset = sampleAsset(t, { filename: "late.txt", contentType: "text/plain" });
    await storage.createMetadata(asset);
    const up = await storage.presignUpload(asset, 1);
    // Wait on the clock (bounded) until the URL is past its expiry; RGW's clock has 1 s resolution.
    const deadline = Date.parse(up.expiresAt) + 1_500;
    while (Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const res = await fetch(up.url, { method: "PUT", body: "too late", headers: { "content-type": "text/plain" } });
    assert.equal(res.status, 403);
    await assert.rejects(admin.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `tenants/${t}/raw/${asset.assetId}/late.txt` })),
      (e: { $metadata?: { httpStatusCode?: number } }) => e.$metadata?.httpStatusCode === 404);
  });

  test("RGW enforces create-only metadata: 412 becomes a conflict, and of concurrent creates exactly one wins", async () => {
    const t = tenant();
    const asset = sampleAsset(t);
    await storage.createMetadata(asset);
    await assert.rejects(
      admin.send(new PutObjectCommand({ Bucket: BUCKET, Key: metaKey(t, asset.assetId), Body: "{}", IfNoneMatch: "*" })),
      (e: { $metadata?: { httpStatusCode?: number } }) => e.$metadata?.httpStatusCode === 412,
    );
    const err = await rejectsWith(storage.createMetadata({ ...asset, bytes: 7 }), "ERR_CONFLICT");
    assert.ok(err.cause, "the SDK error is kept as cause");

    const racer = sampleAsset(t);
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) => storage.createMetadata({ ...racer, bytes: i })),
    );
    const won = results.filter((r) => r.status === "fulfilled");
    assert.equal(won.length, 1, JSON.stringify(results.map((r) => r.status)));
    for (const r of results) if (r.status === "rejected") assert.equal((r.reason as AppError).key, "ERR_CONFLICT");
    const stored = await storage.getMetadata(t, racer.assetId);
    assert.equal(typeof stored?.bytes, "number");
  });

  test("hostile file names land under their asset's prefix, nowhere else in the bucket", async () => {
    const t = tenant();
    const names = ["../../x", "a/b", "../../../tenants/other/raw/x/meta.json", "ünïcødé 文件 ✓.txt", "%2e%2e%2fx", "x".repeat(300)];
    const expected: string[] = [];
    for (const name of names) {
      // 300 chars is over the API's 255 limit, so that one goes through the port directly.
      const asset = name.length > 255
        ? sampleAsset(t, { filename: sanitizeFilename(name), contentType: "text/plain" })
        : (await svc.register(ctxOf(t), { filename: name, contentType: "text/plain" }));
      if (name.length > 255) await storage.createMetadata(asset);
      const up = await storage.presignUpload(asset, 60);
      const res = await fetch(up.url, { method: "PUT", body: name, headers: { "content-type": "text/plain" } });
      assert.equal(res.status, 200, `${name}: ${await res.text()}`);
      expected.push(metaKey(t, asset.assetId), `tenants/${t}/raw/${asset.assetId}/${asset.filename}`);
    }
    const all = await admin.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "tenants/" }));
    const mine = (all.Contents ?? []).map((o) => o.Key!).filter((k) => !k.startsWith("tenants/t-") || k.startsWith(`tenants/${t}/`));
    assert.deepEqual(mine.sort(), expected.sort());
    assert.ok(!(all.Contents ?? []).some((o) => o.Key!.startsWith("tenants/other/")));
  });

  test("RGW down: requests fail fast as ERR_NOT_READY with retryAfterS, and no half-made asset appears", async () => {
    const t = tenant();
    const kept = await svc.register(ctxOf(t), { filename: "kept.txt", contentType: "text/plain" });
    // Kill the gateway while a registration is on the wire: the request is
    // handed to the socket, then radosgw dies before it can answer.
    const client = buildS3Client(config);
    const onWire = new Promise<void>((resolve) => {
      client.middlewareStack.add((next) => async (args) => {
        resolve();
        return next(args);
      }, { step: "finalizeRequest", priority: "low", name: "signalOnWire" });
    });
    const downStorage = new S3Storage({ client, bucket: BUCKET });
    const downSvc = new RawAssetsService({ storage: downStorage, presignTtlS: 60 });
    const pid = rgw.rgwPid()!;
    process.kill(pid, "SIGSTOP"); // it accepts the connection but cannot answer
    const started = Date.now();
    const pending = downSvc.register(ctxOf(t), { filename: "lost.txt", contentType: "text/plain" });
    await onWire;
    process.kill(pid, "SIGKILL");
    await rgw.stopRgw();
    const err = await rejectsWith(pending, "ERR_NOT_READY");
    assert.equal(err.status, 503);
    assert.ok((err.retryAfterS ?? 0) > 0);
    assert.ok(err.cause, "the SDK error is kept as cause");
    const whileDown = [
      () => svc.get(ctxOf(t), kept.assetId),
      () => svc.list(ctxOf(t), {}),
      () => svc.register(ctxOf(t), { filename: "b", contentType: "text/plain" }),
    ];
    for (const op of whileDown) await rejectsWith(op(), "ERR_NOT_READY");
    assert.ok(Date.now() - started < 15_000, `took ${Date.now() - started} ms`);
    const h = await storage.health();
    assert.equal(h.ok, false);

    await rgw.startRgw();
    // The same storage object recovers without a restart of ours.
    const page = await svc.list(ctxOf(t), {});
    assert.ok(page.items.some((a) => a.assetId === kept.assetId));
    for (const item of page.items) assert.equal(item.status, "registered"); // every listed asset parsed complete
    assert.ok(page.items.every((a) => a.filename !== "b"), "the registration refused with 503 left nothing");
    await downStorage.close();
  });
});

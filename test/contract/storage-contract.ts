import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { RawAssetsService, type RawAsset, type RawStorage } from "../../src/adapters/storage/index.js";
import { AppError } from "../../src/errors/index.js";
import { isValidId, newId } from "../../src/registry/ids.js";

// The one behaviour every RawStorage must show (STYLE habit 3), driven through
// the port and through RawAssetsService. Each test uses fresh tenant ids, so
// one store (one bucket) serves the whole suite.

export interface StorageFixture {
  readonly storage: RawStorage;
  /** A second, independent instance over the same durable data (a "restart"); absent for memory. */
  reopen?(): Promise<RawStorage>;
  close(): Promise<void>;
}

const tenant = (): string => `t-${newId()}`;
const ctxOf = (tenantId: string) => ({ tenantId, userId: "alice" });

export async function rejectsWith(p: Promise<unknown>, key: AppError["key"]): Promise<AppError> {
  let caught: unknown;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof AppError, `expected AppError ${key}, got ${String(caught)}`);
  assert.equal(caught.key, key, `expected ${key}, got ${caught.key}: ${caught.message}`);
  return caught;
}

export function sampleAsset(tenantId: string, over: Partial<RawAsset> = {}): RawAsset {
  const assetId = over.assetId ?? newId();
  return {
    assetId,
    tenantId,
    uri: `test://${tenantId}/${assetId}/a.txt`,
    filename: "a.txt",
    contentType: "text/plain",
    bytes: 3,
    metadata: { k: "v", n: [1, 2] },
    createdBy: "alice",
    createdAt: new Date().toISOString(),
    status: "registered",
    ...over,
  };
}

export function describeRawStorageContract(label: string, make: () => Promise<StorageFixture>): void {
  describe(`RawStorage contract: ${label}`, () => {
    let fx: StorageFixture;
    let svc: RawAssetsService;
    before(async () => {
      fx = await make();
      svc = new RawAssetsService({ storage: fx.storage, presignTtlS: 600 });
    });
    after(async () => fx?.close());

    test("L2-T1 register persists metadata that get returns", async () => {
      const t = tenant();
      const body = { filename: "report.pdf", contentType: "application/pdf", bytes: 1234, metadata: { project: "x" } };
      const created = await svc.register(ctxOf(t), body);
      assert.ok(isValidId(created.assetId));
      assert.equal(created.status, "registered");
      assert.equal(created.tenantId, t);
      assert.equal(created.createdBy, "alice");
      assert.equal(created.upload.method, "PUT");
      // Straight from the store, not from any cache in the service:
      const stored = await fx.storage.getMetadata(t, created.assetId);
      const { upload: _upload, ...persisted } = created;
      assert.deepEqual(stored, persisted);
      assert.deepEqual(await svc.get(ctxOf(t), created.assetId), persisted);
      if (fx.reopen) {
        const again = await fx.reopen();
        try {
          assert.deepEqual(await again.getMetadata(t, created.assetId), persisted, "survives a restart");
        } finally {
          await again.close();
        }
      }
    });

    test("the uri is the asset's own key under tenants/<tenant>/raw/<assetId>/", async () => {
      const t = tenant();
      const a = await svc.register(ctxOf(t), { filename: "photo 1.jpg", contentType: "image/jpeg" });
      assert.ok(a.uri.endsWith(`/tenants/${t}/raw/${a.assetId}/${a.filename}`), a.uri);
      assert.equal(a.filename, "photo_1.jpg");
      assert.equal(a.bytes, null);
      assert.deepEqual(a.metadata, {});
    });

    test("hostile file names stay one segment under the asset's prefix", async () => {
      const t = tenant();
      for (const filename of ["../../x", "a/b", "..", "ünïcødé 文件.txt", "x".repeat(255), "\u0000\u001f", "a\\b?c#d"]) {
        const a = await svc.register(ctxOf(t), { filename, contentType: "application/octet-stream" });
        const prefix = `/tenants/${t}/raw/${a.assetId}/`;
        const rest = a.uri.slice(a.uri.indexOf(prefix) + prefix.length);
        assert.ok(a.uri.includes(prefix), a.uri);
        assert.equal(rest, a.filename);
        assert.ok(!/[/\\\u0000-\u001f]/.test(rest) && rest !== "." && rest !== ".." && !rest.startsWith("."), rest);
        assert.deepEqual(await svc.get(ctxOf(t), a.assetId), (({ upload: _u, ...x }) => x)(a));
      }
    });

    test("createMetadata is create-only: a second create is a conflict and changes nothing", async () => {
      const t = tenant();
      const first = sampleAsset(t);
      await fx.storage.createMetadata(first);
      await rejectsWith(fx.storage.createMetadata({ ...first, filename: "other.txt", bytes: 99 }), "ERR_CONFLICT");
      assert.deepEqual(await fx.storage.getMetadata(t, first.assetId), first);
    });

    test("unknown, invalid and other tenants' ids are all not found", async () => {
      const t = tenant();
      const other = tenant();
      const a = await svc.register(ctxOf(t), { filename: "a.txt", contentType: "text/plain" });
      assert.equal(await fx.storage.getMetadata(other, a.assetId), undefined);
      assert.equal(await fx.storage.getMetadata(t, newId()), undefined);
      for (const id of [newId(), "../x", "a/b", "", "x".repeat(129)]) await rejectsWith(svc.get(ctxOf(t), id), "ERR_NOT_FOUND");
      await rejectsWith(svc.get(ctxOf(other), a.assetId), "ERR_NOT_FOUND");
      assert.deepEqual((await svc.list(ctxOf(other), {})).items, []);
    });

    test("list pages through a tenant's assets in assetId order, and only its own", async () => {
      const t = tenant();
      const made: string[] = [];
      for (let i = 0; i < 5; i++) made.push((await svc.register(ctxOf(t), { filename: `f${i}.txt`, contentType: "text/plain" })).assetId);
      await svc.register(ctxOf(tenant()), { filename: "noise.txt", contentType: "text/plain" });
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await svc.list(ctxOf(t), { limit: "2", ...(cursor ? { cursor } : {}) });
        assert.ok(page.items.length <= 2);
        for (const item of page.items) assert.equal(item.tenantId, t);
        seen.push(...page.items.map((a) => a.assetId));
        cursor = page.nextCursor ?? undefined;
        pages++;
      } while (cursor && pages < 10);
      assert.deepEqual(seen, [...made].sort());
      assert.equal(pages, 3);
    });

    test("register validates its body and list its query", async () => {
      const t = tenant();
      const bad: unknown[] = [
        null,
        {},
        { filename: "", contentType: "text/plain" },
        { filename: "a", contentType: "not a mime" },
        { filename: "a", contentType: "text/plain\r\nx-evil: 1" },
        { filename: "a".repeat(256), contentType: "text/plain" },
        { filename: "a", contentType: "text/plain", bytes: -1 },
        { filename: "a", contentType: "text/plain", bytes: 1.5 },
        { filename: "a", contentType: "text/plain", metadata: { big: "x".repeat(4100) } },
        { filename: "a", contentType: "text/plain", metadata: [1] },
      ];
      for (const body of bad) {
        const err = await rejectsWith(svc.register(ctxOf(t), body), "ERR_INVALID_REQUEST");
        assert.ok(Array.isArray(err.details) && err.details.length > 0, JSON.stringify(body));
      }
      await svc.register(ctxOf(t), { filename: "ok", contentType: "text/plain; charset=utf-8", metadata: { s: "x".repeat(4000) } });
      await rejectsWith(svc.list(ctxOf(t), { limit: "501" }), "ERR_INVALID_REQUEST");
      await rejectsWith(svc.list(ctxOf(t), { limit: "0" }), "ERR_INVALID_REQUEST");
      await rejectsWith(svc.list(ctxOf(t), { cursor: "../x" }), "ERR_INVALID_REQUEST");
      assert.equal((await svc.list(ctxOf(t), {})).items.length, 1, "nothing invalid was stored");
    });

    test("presignUpload answers a PUT url that expires after the ttl", async () => {
      const a = sampleAsset(tenant());
      const before = Date.now();
      const up = await fx.storage.presignUpload(a, 120);
      assert.equal(up.method, "PUT");
      assert.ok(up.url.length > 0);
      const exp = Date.parse(up.expiresAt);
      assert.ok(exp >= before + 119_000 && exp <= Date.now() + 121_000, up.expiresAt);
    });

    test("health is ok and describe names the backend", async () => {
      const h = await fx.storage.health();
      assert.equal(h.ok, true, h.detail);
      assert.match(fx.storage.describe(), new RegExp(`^${fx.storage.kind}`));
    });
  });
}

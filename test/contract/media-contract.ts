import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { MediaService, type MediaAsset, type MediaRepository } from "../../src/adapters/media/index.js";
import { AppError } from "../../src/errors/index.js";
import { isValidId, newId } from "../../src/registry/ids.js";

// The behaviour every MediaRepository must show, through the port and through
// MediaService. Fresh tenant ids per test, so one store serves the suite.

export interface MediaFixture {
  readonly repo: MediaRepository;
  /** Closes `repo` and opens a new instance over the same data (a restart); absent for memory. */
  reopen?(): Promise<MediaRepository>;
  close(): Promise<void>;
}

const tenant = (): string => `t-${newId()}`;
const ctxOf = (tenantId: string) => ({ tenantId, userId: "carol" });

async function rejectsWith(p: Promise<unknown>, key: AppError["key"]): Promise<AppError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof AppError, `expected AppError ${key}, got ${String(err)}`);
  assert.equal(err.key, key, `expected ${key}, got ${err.key}: ${err.message}`);
  return err;
}

const body = (tenantId: string, over: Record<string, unknown> = {}) => ({
  tenant_id: tenantId,
  kind: "image",
  uri: "https://cdn.example.com/a.png",
  contentType: "image/png",
  bytes: 2048,
  metadata: { alt: "a cat" },
  ...over,
});

export function describeMediaContract(label: string, make: () => Promise<MediaFixture>): void {
  describe(`MediaRepository contract: ${label}`, () => {
    let fx: MediaFixture;
    let repo: MediaRepository;
    let svc: MediaService;
    before(async () => {
      fx = await make();
      repo = fx.repo;
      svc = new MediaService({ repo });
    });
    after(async () => fx?.close());

    test("create persists an asset that get returns, with the full MediaAsset shape", async () => {
      const t = tenant();
      const a = await svc.create(ctxOf(t), body(t));
      assert.ok(isValidId(a.id));
      assert.deepEqual(Object.keys(a).sort(), ["bytes", "contentType", "createdAt", "createdBy", "id", "kind", "metadata", "tenantId", "uri"]);
      assert.equal(a.tenantId, t);
      assert.equal(a.createdBy, "carol");
      assert.ok(!Number.isNaN(Date.parse(a.createdAt)));
      assert.deepEqual(await repo.get(t, a.id), a);
      assert.deepEqual(await svc.get(ctxOf(t), a.id, t), a);
      const minimal = await svc.create(ctxOf(t), { tenant_id: t, kind: "other", uri: "s3://bucket/key" });
      assert.equal(minimal.contentType, null);
      assert.equal(minimal.bytes, null);
      assert.deepEqual(minimal.metadata, {});
    });

    test("create is create-only at the repository", async () => {
      const t = tenant();
      const a = await svc.create(ctxOf(t), body(t));
      await rejectsWith(repo.create({ ...a, uri: "https://evil.example.com/x" }), "ERR_CONFLICT");
      assert.deepEqual(await repo.get(t, a.id), a);
    });

    test("tenant_id must be given and must be the acting tenant", async () => {
      const t = tenant();
      const other = tenant();
      await rejectsWith(svc.create(ctxOf(t), body(other)), "ERR_CONTEXT_MISMATCH");
      await rejectsWith(svc.create(ctxOf(t), body(other, { kind: "nonsense" })), "ERR_CONTEXT_MISMATCH");
      await rejectsWith(svc.create(ctxOf(t), { kind: "image", uri: "https://x.example/a" }), "ERR_INVALID_REQUEST");
      const a = await svc.create(ctxOf(t), body(t));
      await rejectsWith(svc.get(ctxOf(t), a.id, undefined), "ERR_INVALID_REQUEST");
      await rejectsWith(svc.get(ctxOf(t), a.id, ""), "ERR_INVALID_REQUEST");
      await rejectsWith(svc.get(ctxOf(t), a.id, other), "ERR_CONTEXT_MISMATCH");
      await rejectsWith(svc.list(ctxOf(t), undefined, {}), "ERR_INVALID_REQUEST");
      await rejectsWith(svc.list(ctxOf(t), other, {}), "ERR_CONTEXT_MISMATCH");
      assert.deepEqual((await svc.list(ctxOf(other), other, {})).items, [], "nothing was created for the other tenant");
    });

    test("unknown, invalid and other tenants' ids are all not found", async () => {
      const t = tenant();
      const other = tenant();
      const a = await svc.create(ctxOf(t), body(t));
      for (const id of [newId(), "../x", "", "x".repeat(129)]) await rejectsWith(svc.get(ctxOf(t), id, t), "ERR_NOT_FOUND");
      await rejectsWith(svc.get(ctxOf(other), a.id, other), "ERR_NOT_FOUND");
      assert.equal(await repo.get(other, a.id), undefined);
    });

    test("create validates kind, uri scheme and length, contentType, bytes and metadata size", async () => {
      const t = tenant();
      const bad: unknown[] = [
        null,
        "x",
        body(t, { kind: "gif" }),
        body(t, { uri: "javascript:alert(1)" }),
        body(t, { uri: "file:///etc/passwd" }),
        body(t, { uri: "data:text/plain,hi" }),
        body(t, { uri: "/relative/path" }),
        body(t, { uri: `https://x.example/${"a".repeat(2040)}` }),
        body(t, { contentType: "png" }),
        body(t, { bytes: -1 }),
        body(t, { bytes: "12" }),
        body(t, { metadata: { big: "x".repeat(4100) } }),
        body(t, { metadata: "x" }),
      ];
      for (const b of bad) {
        const err = await rejectsWith(svc.create(ctxOf(t), b), "ERR_INVALID_REQUEST");
        assert.ok(Array.isArray(err.details) && err.details.length > 0, JSON.stringify(b).slice(0, 80));
      }
      for (const kind of ["image", "video", "audio", "document", "other"]) {
        await svc.create(ctxOf(t), body(t, { kind, uri: `http://x.example/${kind}` }));
      }
      await svc.create(ctxOf(t), body(t, { uri: `https://x.example/${"a".repeat(2048 - 18)}` }));
      assert.equal((await svc.list(ctxOf(t), t, {})).items.length, 6, "only the valid ones were stored");
    });

    test("list pages in creation order, and only the tenant's own", async () => {
      const t = tenant();
      const made: MediaAsset[] = [];
      for (let i = 0; i < 5; i++) made.push(await svc.create(ctxOf(t), body(t, { uri: `https://x.example/${i}` })));
      const noise = tenant();
      await svc.create(ctxOf(noise), body(noise));
      const seen: MediaAsset[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await svc.list(ctxOf(t), t, { limit: "2", ...(cursor ? { cursor } : {}) });
        seen.push(...page.items);
        cursor = page.nextCursor ?? undefined;
        pages++;
      } while (cursor && pages < 10);
      assert.deepEqual(seen, made);
      assert.equal(pages, 3);
      await rejectsWith(svc.list(ctxOf(t), t, { limit: "501" }), "ERR_INVALID_REQUEST");
      await rejectsWith(svc.list(ctxOf(t), t, { cursor: "abc" }), "ERR_INVALID_REQUEST");
      await rejectsWith(repo.list(t, { limit: 2, cursor: "-1" }), "ERR_INVALID_REQUEST");
    });

    test("what was created survives a close and reopen (durable implementations)", async (t) => {
      if (!fx.reopen) return t.skip("not durable by design (memory)");
      const tid = tenant();
      const a = await svc.create(ctxOf(tid), body(tid));
      const b = await svc.create(ctxOf(tid), body(tid, { kind: "video" }));
      repo = await fx.reopen();
      svc = new MediaService({ repo });
      assert.deepEqual(await svc.get(ctxOf(tid), a.id, tid), a);
      assert.deepEqual((await svc.list(ctxOf(tid), tid, {})).items, [a, b]);
      const c = await svc.create(ctxOf(tid), body(tid));
      assert.deepEqual((await svc.list(ctxOf(tid), tid, {})).items, [a, b, c], "creation order continues after reopen");
    });
  });
}

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import Database from "better-sqlite3";
import { createMedia, MEDIA_DB_FILE, MemoryMedia, SqliteMedia, type MediaRepository } from "../../src/adapters/media/index.js";
import { configFrom } from "../../src/config/index.js";
import { AppError } from "../../src/errors/index.js";
import { describeMediaContract } from "./media-contract.js";

// The media contract over memory and over SQLite files in a temp dir.

describeMediaContract("memory", async () => {
  const repo = new MemoryMedia();
  return { repo, close: () => repo.close() };
});

describeMediaContract("sqlite", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sy-media-"));
  let repo: MediaRepository = createMedia(configFrom({ DATA_DIR: dir })); // through the factory: sqlite by default
  assert.ok(repo instanceof SqliteMedia);
  return {
    repo,
    reopen: async () => {
      await repo.close();
      repo = new SqliteMedia({ dir });
      return repo;
    },
    close: async () => {
      await repo.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

test("SqliteMedia: WAL and synchronous=FULL, in its own file under the directory", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "sy-media-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const repo = new SqliteMedia({ dir });
  t.after(() => repo.close());
  assert.equal(repo.describe(), `sqlite (${join(dir, MEDIA_DB_FILE)})`);
  const db = new Database(join(dir, MEDIA_DB_FILE), { readonly: true });
  t.after(() => db.close());
  assert.equal(db.pragma("journal_mode", { simple: true }), "wal");
  // synchronous is per connection: read it through the repository's own handle.
  const inner = (repo as unknown as { db: Database.Database }).db; // private field, read for this check only
  assert.equal(inner.pragma("synchronous", { simple: true }), 2); // 2 = FULL
});

test("SqliteMedia: a closed repository answers ERR_NOT_READY, not a raw error", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "sy-media-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const repo = new SqliteMedia({ dir });
  await repo.close();
  await assert.rejects(repo.get("t1", "a1"), (e: { key?: string; status?: number }) => e.key === "ERR_NOT_READY" && e.status === 503);
});

test("MemoryMedia through the factory holds MEDIA_MEMORY_MAX_ASSETS across tenants, then refuses and keeps what it took", async () => {
  const repo = createMedia(configFrom({ MEDIA_MEMORY_MAX_ASSETS: "2" }), { backend: "memory" });
  const asset = (tenantId: string, id: string) => ({
    id, tenantId, kind: "image" as const, uri: `https://cdn.example/${id}.png`, contentType: "image/png", bytes: null, metadata: {}, createdBy: "u", createdAt: new Date(0).toISOString(),
  });
  await repo.create(asset("t1", "m1"));
  await repo.create(asset("t2", "m2"));
  await assert.rejects(repo.create(asset("t3", "m3")), (e: unknown) => e instanceof AppError && e.key === "ERR_LIMIT_EXCEEDED" && /MEDIA_MEMORY_MAX_ASSETS=2/.test(e.message));
  assert.equal((await repo.get("t1", "m1"))?.id, "m1");
  assert.equal((await repo.get("t2", "m2"))?.id, "m2");
  assert.equal(await repo.get("t3", "m3"), undefined);
});


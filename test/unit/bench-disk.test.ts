import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { describeFsync, probeFsync } from "../../bench/lib/disk.js";

describe("bench disk probe", () => {
  it("times real fdatasyncs in the given directory and leaves nothing behind", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sy-disk-"));
    try {
      const p = await probeFsync(dir, 300, 1);
      assert.equal(p.dir, dir);
      assert.ok(p.samples >= 5, `${p.samples} samples in 300 ms`);
      // A tmpfs answers in microseconds, so 0 after rounding is possible; the order is not.
      assert.ok(p.p50Ms >= 0 && p.p50Ms <= p.p99Ms && p.p99Ms <= p.maxMs, JSON.stringify(p));
      assert.ok(p.over20Ms >= 0 && p.over20Ms <= p.samples);
      assert.deepEqual(readdirSync(dir), [], "probe file removed");
      assert.match(describeFsync(p), /^disk: fdatasync of 4 KB in .+: p50 [\d.]+ \/ p99 [\d.]+ \/ max [\d.]+ ms over \d+ samples \(\d+ over 20 ms\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

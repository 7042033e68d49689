import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { pathToFileURL } from "node:url";

const dbModule = pathToFileURL(new URL("../../src/embedded/db.js", import.meta.url).pathname).href;

/** A process that opens `file` in `dir` when it reads a line on stdin, so all of them start together. */
function opener(dir: string, file: string): { go: () => void; done: Promise<{ code: number | null; err: string }> } {
  const script = `import { openDb } from ${JSON.stringify(dbModule)};
process.stdin.once("data", () => { openDb(${JSON.stringify(dir)}, ${JSON.stringify(file)}, "all").close(); process.exit(0); });`;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["pipe", "ignore", "pipe"] });
  let err = "";
  child.stderr.on("data", (c: Buffer) => (err += c.toString()));
  const done = new Promise<{ code: number | null; err: string }>((resolve) => child.once("exit", (code) => resolve({ code, err })));
  return { go: () => child.stdin.end("go\n"), done };
}

describe("embedded SQLite files", () => {
  it("several processes opening one new file at once all open it (CLUSTER_SHARED_DIR nodes starting together)", async () => {
    for (let round = 0; round < 12; round++) {
      const dir = mkdtempSync(join(tmpdir(), "sy-db-race-"));
      try {
        const procs = Array.from({ length: 6 }, () => opener(dir, "shared.db"));
        await new Promise((r) => setTimeout(r, 300)); // every process loaded and waiting
        for (const p of procs) p.go();
        const results = await Promise.all(procs.map((p) => p.done));
        for (const r of results) assert.equal(r.code, 0, `round ${round}: ${r.err}`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });
});

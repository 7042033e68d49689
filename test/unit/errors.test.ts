import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, it } from "node:test";
import { ERRORS } from "../../src/errors/codes.js";
import { AppError, errorBody, toAppError } from "../../src/errors/index.js";

// The README's "## Errors" table is the documentation operators and clients
// read; the registry is what the code answers. They must say the same thing.

interface Row {
  readonly status: number;
  readonly code: string;
}

/** Rows `| <status> | \`<code>\` | <when> |` of the table under "## Errors" (until the next "## "). */
function parseErrorTable(markdown: string): Row[] {
  const lines = markdown.split(/\r?\n/);
  const start = lines.findIndex((l) => /^##\s+Errors\s*$/.test(l));
  if (start < 0) return [];
  const rows: Row[] = [];
  for (const line of lines.slice(start + 1)) {
    if (/^##\s/.test(line)) break;
    const m = /^\|\s*(\d{3})\s*\|\s*`([a-z_]+)`\s*\|.*\|\s*$/.exec(line);
    if (m) rows.push({ status: Number(m[1]), code: m[2] as string });
  }
  return rows;
}

describe("error registry", () => {
  it("codes are unique snake_case, statuses are HTTP error statuses", () => {
    const codes = Object.values(ERRORS).map((e) => e.code);
    assert.equal(new Set(codes).size, codes.length, "duplicate code in the registry");
    for (const [key, e] of Object.entries(ERRORS)) {
      assert.match(key, /^ERR_[A-Z_]+$/);
      assert.match(e.code, /^[a-z]+(_[a-z]+)*$/, key);
      assert.ok(e.status >= 400 && e.status <= 599, `${key} status ${e.status}`);
      assert.ok(e.message.length > 0, `${key} has no message`);
    }
  });

  it("AppError carries the registry status and code; unknown throws become internal without leaking text", () => {
    const e = new AppError("ERR_CONFLICT", { details: { seq: 3 } });
    assert.equal(e.status, 409);
    assert.equal(e.code, "conflict");
    const body = JSON.parse(errorBody(e, "req-1")) as { error: Record<string, unknown> };
    assert.deepEqual(body.error, { code: "conflict", message: ERRORS.ERR_CONFLICT.message, requestId: "req-1", details: { seq: 3 } });
    const wrapped = toAppError(new Error("SELECT * FROM secrets failed"));
    assert.equal(wrapped.status, 500);
    assert.equal(wrapped.code, "internal");
    assert.doesNotMatch(errorBody(wrapped, "r"), /secrets/);
  });

  it("the parser reads the documented row format", () => {
    const md = "# x\n## Errors\n\n| status | code | when |\n|---|---|---|\n| 404 | `not_found` | missing |\n| 409 | `conflict` | reused key |\n## Next\n| 500 | `internal` | x |\n";
    assert.deepEqual(parseErrorTable(md), [{ status: 404, code: "not_found" }, { status: 409, code: "conflict" }]);
  });

  it("matches the README's error table exactly (both directions)", () => {
    let readme: string;
    try {
      readme = readFileSync(resolve("README.md"), "utf8");
    } catch {
      assert.fail("README.md is missing: it must document every error code under '## Errors'");
    }
    const rows = parseErrorTable(readme);
    assert.ok(rows.length > 0, "README.md has no '## Errors' table with rows | <status> | `<code>` | <when> |");
    const documented = new Map(rows.map((r) => [r.code, r.status]));
    assert.equal(documented.size, rows.length, "a code is documented twice");
    for (const [key, e] of Object.entries(ERRORS)) {
      assert.ok(documented.has(e.code), `${key} (${e.code}) is not in the README's error table`);
      assert.equal(documented.get(e.code), e.status, `${e.code}: README says ${documented.get(e.code)}, registry ${e.status}`);
    }
    const registered = new Set<string>(Object.values(ERRORS).map((e) => e.code));
    for (const r of rows) assert.ok(registered.has(r.code), `README documents \`${r.code}\` which is not in src/errors/codes.ts`);
  });
});

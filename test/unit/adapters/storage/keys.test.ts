import assert from "node:assert/strict";
import { test } from "node:test";
import { contentKey, metaKey, sanitizeFilename } from "../../../../src/adapters/storage/keys.js";

const SAFE_SEGMENT = /^[\p{L}\p{N}\p{M}+=@,()-][\p{L}\p{N}\p{M}._\-+=@,()]*$/u;

test("sanitizeFilename keeps ordinary and unicode names readable", () => {
  assert.equal(sanitizeFilename("report.pdf"), "report.pdf");
  assert.equal(sanitizeFilename("Résumé (final).docx"), "Résumé_(final).docx");
  assert.equal(sanitizeFilename("文件.txt"), "文件.txt");
  assert.equal(sanitizeFilename("e\u0301.png"), "é.png"); // NFC: one code point, as most file systems show it
});

test("sanitizeFilename never yields a path: no separators, dot segments, hidden names or control characters", () => {
  const cases: Array<[string, string]> = [
    ["../../x", "x"],
    ["a/b", "a_b"],
    ["a\\b", "a_b"],
    ["..", "file"],
    [".", "file"],
    [".env", "env"],
    ["", "file"],
    ["\u0000\u0001\u001f\u007f", "file"],
    ["a\nb\r", "a_b"],
    ["what?#frag%2F", "what_frag_2F"],
    ["/etc/passwd", "etc_passwd"],
  ];
  for (const [input, want] of cases) assert.equal(sanitizeFilename(input), want, JSON.stringify(input));
  for (const input of ["../../x", "a/b/../../c", "....//....//", "\u202e\u200bevil", "x/./y", " leading space"]) {
    const out = sanitizeFilename(input);
    assert.match(out, SAFE_SEGMENT, `${JSON.stringify(input)} → ${out}`);
  }
});

test("sanitizeFilename caps names at 200 UTF-8 bytes without splitting a character, keeping a short extension", () => {
  const long = sanitizeFilename(`${"x".repeat(300)}.tar.gz`);
  assert.ok(Buffer.byteLength(long) <= 200);
  assert.ok(long.endsWith(".gz"));
  const wide = sanitizeFilename("文".repeat(300)); // 3 bytes each
  assert.ok(Buffer.byteLength(wide) <= 200);
  assert.equal(wide, "文".repeat(66));
  const astral = sanitizeFilename("𐐀".repeat(60)); // Deseret letters: 4 bytes, a surrogate pair in JS
  assert.equal(astral, "𐐀".repeat(50));
  assert.ok(!/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(astral), "no lone surrogate at the cut");
  assert.equal(sanitizeFilename("😀😀"), "file"); // symbols are not kept
});

test("keys are spelled in one place under tenants/<tenant>/raw/<asset>/", () => {
  assert.equal(metaKey("t1", "a1"), "tenants/t1/raw/a1/meta.json");
  assert.equal(contentKey("t1", "a1", sanitizeFilename("../x")), "tenants/t1/raw/a1/x");
});

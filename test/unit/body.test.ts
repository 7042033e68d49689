import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { z } from "zod";
import { AppError } from "../../src/errors/index.js";
import { isJsonContentType, jsonDepth, parseJsonBody, validate } from "../../src/front/http/body.js";

const codeOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof AppError, `not an AppError: ${String(e)}`);
    return e.code;
  }
  return "none";
};

describe("JSON bodies", () => {
  it("depth counts brackets outside strings only", () => {
    assert.equal(jsonDepth(Buffer.from('{"a":[1,{"b":2}]}')), 3);
    assert.equal(jsonDepth(Buffer.from('{"a":"[[[[{{{{\\"]]]"}')), 1);
    assert.equal(jsonDepth(Buffer.from("42")), 0);
  });

  it("a 10k-deep document is refused before parsing", () => {
    const deep = Buffer.from("[".repeat(10_000) + "]".repeat(10_000));
    assert.equal(codeOf(() => parseJsonBody(deep)), "invalid_request");
    const deepObj = Buffer.from('{"a":'.repeat(10_000) + "1" + "}".repeat(10_000));
    assert.equal(codeOf(() => parseJsonBody(deepObj)), "invalid_request");
  });

  it("prototype-polluting keys are refused at any depth", () => {
    for (const text of ['{"__proto__":{"admin":true}}', '{"a":{"constructor":{"prototype":{}}}}', '[{"prototype":1}]']) {
      assert.equal(codeOf(() => parseJsonBody(Buffer.from(text))), "invalid_request", text);
    }
    assert.equal(({} as Record<string, unknown>).admin, undefined);
  });

  it("invalid JSON is invalid_json", () => {
    for (const text of ["{", "{'a':1}", "nul", "\u0000"]) assert.equal(codeOf(() => parseJsonBody(Buffer.from(text))), "invalid_json", text);
    assert.deepEqual(parseJsonBody(Buffer.from('{"text":"hé"}')), { text: "hé" });
  });

  it("content types: application/json and +json only", () => {
    assert.ok(isJsonContentType("application/json"));
    assert.ok(isJsonContentType("Application/JSON; charset=utf-8"));
    assert.ok(isJsonContentType("application/merge-patch+json"));
    for (const ct of [undefined, "", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data", "application/jsonp"]) {
      assert.ok(!isJsonContentType(ct), String(ct));
    }
  });

  it("validate turns zod issues into 400 details with paths", () => {
    const schema = z.strictObject({ text: z.string(), n: z.number().optional() });
    try {
      validate(schema, { text: 5, n: "x" });
      assert.fail("should throw");
    } catch (e) {
      assert.ok(e instanceof AppError);
      assert.equal(e.status, 400);
      const details = e.details as { path: (string | number)[]; message: string }[];
      assert.deepEqual(details.map((d) => d.path.join(".")).sort(), ["n", "text"]);
    }
  });
});

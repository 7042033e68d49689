import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Router } from "../../src/front/http/router.js";
import type { Route } from "../../src/front/http/types.js";

const route = (method: Route["method"], pattern: string): Route => ({ method, pattern, access: "tenant", handle: () => ({ status: 200 }) });

describe("router", () => {
  const r = new Router();
  r.addAll([route("GET", "/chat/threads"), route("POST", "/chat/threads"), route("GET", "/chat/threads/:threadId"), route("POST", "/chat/threads/:threadId/messages")]);

  it("matches by method and segments, decoding params", () => {
    const m = r.match("GET", "/chat/threads/th_abc");
    assert.equal(m.kind, "found");
    if (m.kind === "found") {
      assert.equal(m.route.pattern, "/chat/threads/:threadId");
      assert.deepEqual(m.params, { threadId: "th_abc" });
    }
    const enc = r.match("GET", "/chat/threads/%2E%2E%2Fetc");
    assert.ok(enc.kind === "found" && enc.params.threadId === "../etc");
  });

  it("HEAD uses the GET route", () => {
    assert.equal(r.match("HEAD", "/chat/threads").kind, "found");
  });

  it("a mounted path under another method is method_not_mounted (so auth still runs first)", () => {
    const m = r.match("DELETE", "/chat/threads/x");
    assert.deepEqual(m, { kind: "method_not_mounted", pattern: "/chat/threads/:threadId" });
  });

  it("unknown paths and malformed escapes are none", () => {
    assert.equal(r.match("GET", "/chat").kind, "none");
    assert.equal(r.match("GET", "/chat/threads/a/b/c").kind, "none");
    assert.equal(r.match("GET", "/chat/threads/%E0%A4%A").kind, "none");
  });
});

import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import { randomTenant, startTestServer, type TestServer } from "../helpers/server.js";

// Hostile and broken input: every refusal is a 4xx with a registry code, never
// a 500, and the node keeps serving afterwards.

type ErrorJson = { error: { code: string; message: string; details?: unknown; requestId: string } };

/** Writes raw bytes and resolves with the status line's code (or null if the server closed without answering). */
function rawRequest(port: number, parts: (string | Buffer)[], opts: { endAfter?: boolean } = {}): Promise<{ status: number | null; text: string }> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, "127.0.0.1");
    let text = "";
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no answer; got ${JSON.stringify(text.slice(0, 200))}`));
    }, 10_000);
    const done = () => {
      clearTimeout(timer);
      sock.destroy();
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      resolve({ status: m ? Number(m[1]) : null, text });
    };
    sock.on("data", (d) => {
      text += d.toString("latin1");
      // One full response: headers and, when declared, the whole body.
      const headEnd = text.indexOf("\r\n\r\n");
      if (headEnd < 0) return;
      const len = /content-length:\s*(\d+)/i.exec(text.slice(0, headEnd));
      if (!len || text.length - headEnd - 4 >= Number(len[1])) done();
    });
    sock.on("error", () => done());
    sock.on("close", () => done());
    sock.on("connect", () => {
      for (const p of parts) sock.write(p);
      if (opts.endAfter) sock.end();
    });
  });
}

describe("bad input never crashes the node", () => {
  let s: TestServer;
  const tenant = randomTenant();
  let token: string;
  let thread: string;

  before(async () => {
    s = await startTestServer();
    token = await s.token(tenant);
    thread = ((await (await s.api("/chat/threads", { token, tenant, body: {} })).json()) as { id: string }).id;
  });
  after(() => s.stop());

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) => s.api(path, { method: "POST", token, tenant, body, headers });
  const expectError = async (res: Response, status: number, code: string, label: string): Promise<ErrorJson> => {
    const text = await res.text();
    assert.equal(res.status, status, `${label}: ${text.slice(0, 300)}`);
    const json = JSON.parse(text) as ErrorJson;
    assert.equal(json.error.code, code, label);
    return json;
  };

  it("invalid JSON is 400 invalid_json; wrong types are 400 invalid_request with field details", async () => {
    await expectError(await post("/chat/threads", "{not json"), 400, "invalid_json", "broken json");
    await expectError(await post(`/chat/threads/${thread}/messages`, '{"text": "a",}'), 400, "invalid_json", "trailing comma");
    const wrong = await expectError(await post(`/chat/threads/${thread}/messages`, { text: 42, clientMsgId: ["x"] }), 400, "invalid_request", "wrong types");
    const paths = (wrong.error.details as { path: string[] }[]).map((d) => d.path.join("."));
    assert.ok(paths.includes("text") && paths.includes("clientMsgId"), JSON.stringify(wrong.error.details));
    await expectError(await post("/chat/threads", { title: "x".repeat(201) }), 400, "invalid_request", "title too long");
    await expectError(await post("/chat/threads", { title: "ok", extra: 1 }), 400, "invalid_request", "unknown key");
    await expectError(await post("/chat/threads", [1, 2]), 400, "invalid_request", "array body");
    await expectError(await post("/chat/threads", "null"), 400, "invalid_request", "null body");
    await expectError(await post(`/canvas/c1/events`, { type: "x".repeat(65), data: 1 }), 400, "invalid_request", "type too long");
    await expectError(await post(`/canvas/c1/events`, { type: "draw" }), 400, "invalid_request", "canvas data missing");
    await expectError(await s.api(`/chat/threads/${thread}/messages?after=-1`, { token, tenant }), 400, "invalid_request", "negative after");
    await expectError(await s.api(`/chat/threads/${thread}/messages?limit=501`, { token, tenant }), 400, "invalid_request", "limit over 500");
    await expectError(await s.api(`/chat/threads?cursor=../x`, { token, tenant }), 400, "invalid_request", "bad cursor");
  });

  it("__proto__ / constructor keys and 10k-deep nesting are 400", async () => {
    await expectError(await post("/chat/threads", '{"metadata":{"__proto__":{"admin":true}}}'), 400, "invalid_request", "__proto__");
    await expectError(await post(`/canvas/c1/events`, '{"type":"x","data":{"constructor":{"prototype":{"polluted":1}}}}'), 400, "invalid_request", "constructor");
    assert.equal(({} as Record<string, unknown>).admin, undefined);
    await expectError(await post(`/canvas/c1/events`, `{"type":"x","data":${"[".repeat(10_000)}${"]".repeat(10_000)}}`), 400, "invalid_request", "10k deep");
    await expectError(await post(`/canvas/c1/events`, `{"type":"x","data":${'{"a":'.repeat(10_000)}1${"}".repeat(10_000)}}`), 400, "invalid_request", "10k deep objects");
  });

  it("text over MAX_MESSAGE_BYTES is 400 with details; the limit counts bytes, not characters", async () => {
    const over = await expectError(await post(`/chat/threads/${thread}/messages`, { text: "a".repeat(16385) }), 400, "invalid_request", "16385 bytes");
    assert.deepEqual((over.error.details as { path: string[] }[])[0]?.path, ["text"]);
    await expectError(await post(`/chat/threads/${thread}/messages`, { text: "é".repeat(8193) }), 400, "invalid_request", "8193 two-byte chars");
    assert.equal((await post(`/chat/threads/${thread}/messages`, { text: "a".repeat(16384) })).status, 201);
    await expectError(await post(`/chat/threads/${thread}/messages`, { text: "" }), 400, "invalid_request", "empty text");
    await expectError(await post(`/canvas/c1/events`, { type: "x", data: "d".repeat(65_537) }), 400, "invalid_request", "event data over MAX_EVENT_BYTES");
  });

  it("non-JSON content types are 415", async () => {
    for (const ct of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]) {
      await expectError(await post("/chat/threads", '{"title":"x"}', { "content-type": ct }), 415, "unsupported_media_type", ct);
    }
  });

  it("bodies over MAX_BODY_BYTES are 413, with a content-length or chunked", async () => {
    const big = JSON.stringify({ text: "a".repeat(300_000) });
    await expectError(await post(`/chat/threads/${thread}/messages`, big), 413, "payload_too_large", "declared length");
    // Chunked: no content-length, so the limit is enforced while reading.
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent++ < 40) c.enqueue(new TextEncoder().encode("a".repeat(10_000)));
        else c.close();
      },
    });
    const res = await fetch(`${s.url}/chat/threads/${thread}/messages`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "x-tenant-id": tenant, "content-type": "application/json" },
      body: stream,
      duplex: "half",
    } as RequestInit);
    await expectError(res, 413, "payload_too_large", "chunked");
  });

  it("a lying content-length (smaller than the body sent) never yields a 500", async () => {
    const head = `POST /chat/threads/${thread}/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nX-Tenant-Id: ${tenant}\r\nContent-Type: application/json\r\n`;
    const r = await rawRequest(s.port, [`${head}Content-Length: 5\r\n\r\n{"text":"hello"}`]);
    assert.ok(r.status === null || (r.status >= 400 && r.status < 500), r.text.slice(0, 200));
  });

  it("odd resource ids are 400/404, never 500 or another resource", async () => {
    // (fetch normalises "%2E" segments like ".", so those go over a raw socket below.)
    const ids = ["..%2F..%2Fetc", "..%2F", "*", "%3E", "a.b", "caf%C3%A9", "%F0%9F%98%80", "x".repeat(129), "a%20b", "%00", "a%2Fb", "%E0%A4%A"];
    for (const id of ids) {
      for (const [method, path, body] of [
        ["GET", `/chat/threads/${id}`, undefined],
        ["POST", `/chat/threads/${id}/messages`, { text: "x" }],
        ["GET", `/chat/threads/${id}/messages`, undefined],
        ["POST", `/canvas/${id}/events`, { type: "t", data: 1 }],
        ["GET", `/canvas/${id}/events`, undefined],
      ] as const) {
        const res = await s.api(path, { method, token, tenant, body });
        assert.ok(res.status === 400 || res.status === 404, `${method} ${path} → ${res.status}`);
        await res.arrayBuffer();
      }
    }
    // Literal dot segments and wildcards on the wire (fetch would normalise them away).
    for (const path of ["/canvas/../events", "/canvas/./events", "/canvas/%2E/events", "/canvas/%2E%2E/events", "/chat/threads/%2e%2e/messages", "/chat/threads/../threads/x", "/canvas/*/events", "/canvas/>/events"]) {
      const r = await rawRequest(s.port, [`GET ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nX-Tenant-Id: ${tenant}\r\n\r\n`]);
      assert.ok(r.status === 400 || r.status === 404, `${path} → ${r.status}`);
    }
    // A 128-char id is valid: canvases may be registered with it.
    assert.equal((await post(`/canvas/${"c".repeat(128)}/events`, { type: "t", data: 1 })).status, 202);
  });

  it("a client that aborts mid-body does not crash the node, and it keeps serving", async () => {
    const head = `POST /chat/threads/${thread}/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nX-Tenant-Id: ${tenant}\r\nContent-Type: application/json\r\n`;
    for (let i = 0; i < 20; i++) {
      await new Promise<void>((resolve) => {
        const sock = connect(s.port, "127.0.0.1", () => {
          sock.write(`${head}Content-Length: 1000\r\n\r\n{"text":"half a bo`);
          setImmediate(() => {
            sock.destroy();
            resolve();
          });
        });
        sock.on("error", () => resolve());
      });
    }
    // And one that sends headers only, and one that aborts a chunked upload.
    await rawRequest(s.port, [`${head}Transfer-Encoding: chunked\r\n\r\n5\r\n{"tex\r\n`], { endAfter: true }).catch(() => undefined);
    const health = await fetch(`${s.url}/healthz`);
    assert.equal(health.status, 200);
    const ok = await post(`/chat/threads/${thread}/messages`, { text: "still here" });
    assert.equal(ok.status, 201);
  });

  it("a request aborted mid-body is not executed (no phantom thread)", async () => {
    const t2 = randomTenant();
    const tok2 = await s.token(t2);
    const postsDone = async (): Promise<number> => {
      const text = await (await fetch(`${s.url}/metrics`)).text();
      return text
        .split("\n")
        .filter((l) => l.startsWith("switchyard_http_requests_total{") && l.includes('route="/chat/threads"') && l.includes('method="POST"'))
        .reduce((sum, l) => sum + Number(l.split(" ").pop()), 0);
    };
    const before = await postsDone();
    await new Promise<void>((resolve) => {
      const sock = connect(s.port, "127.0.0.1", () => {
        sock.write(`POST /chat/threads HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${tok2}\r\nX-Tenant-Id: ${t2}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"title":"ha`);
        setImmediate(() => {
          sock.destroy();
          resolve();
        });
      });
    });
    // The pipeline counts the request once it has finished with it; wait for that, bounded.
    const deadline = Date.now() + 5000;
    while ((await postsDone()) === before) {
      assert.ok(Date.now() < deadline, "the aborted request never finished");
      await new Promise((r) => setTimeout(r, 20));
    }
    const list = (await (await s.api("/chat/threads", { token: tok2, tenant: t2 })).json()) as { items: unknown[] };
    assert.equal(list.items.length, 0);
  });

  it("after all of it the node still serves, and no request ever got a 500", async () => {
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    const fivexx = metrics.split("\n").filter((l) => l.startsWith("switchyard_http_requests_total") && /status="5\d\d"/.test(l));
    assert.deepEqual(fivexx, []);
    const list = await s.api("/chat/threads", { token, tenant });
    assert.equal(list.status, 200);
  });
});

describe("per-request deadline", () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ REQUEST_TIMEOUT_MS: "500" });
  });
  after(() => s.stop());

  it("a client that declares more body than it sends gets 504 timeout at the deadline, not a hung slot", async () => {
    const tenant = randomTenant();
    const token = await s.token(tenant);
    const started = Date.now();
    const r = await rawRequest(s.port, [
      `POST /chat/threads HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nX-Tenant-Id: ${tenant}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"title":"ha`,
    ]);
    assert.equal(r.status, 504, r.text.slice(0, 200));
    assert.match(r.text, /"code":"timeout"/);
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
    const list = (await (await s.api("/chat/threads", { token, tenant })).json()) as { items: unknown[] };
    assert.equal(list.items.length, 0, "the timed-out request must not have run");
  });
});

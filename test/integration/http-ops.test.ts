import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { randomTenant, spawnServer, startTestServer, type ChildServer, type TestServer } from "../helpers/server.js";

// SPEC §4 operations and §2 request context: health, readiness, metrics,
// request ids, and tokens kept out of every log line.

describe("operations routes", () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
  });
  after(() => s.stop());

  it("/healthz is 200 {status: ok} without a token", async () => {
    const res = await fetch(`${s.url}/healthz`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
    assert.deepEqual(await res.json(), { status: "ok" });
  });

  it("/readyz names every check, including whether the uWS native binary loaded", async () => {
    const res = await fetch(`${s.url}/readyz`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { status: string; checks: Record<string, unknown> };
    assert.equal(body.status, "ready");
    assert.equal(typeof body.checks, "object");
    assert.match(String(body.checks.uws), /^(native|js-fallback)/);
    // This machine's Node has a matching binary: a fallback here is a regression.
    assert.match(String(body.checks.uws), /^native/);
    assert.match(String(body.checks.store), /sqlite/);
  });

  it("/metrics is Prometheus text with requests by route and status, latency and event-loop lag", async () => {
    const tenant = randomTenant();
    const token = await s.token(tenant);
    await s.api("/chat/threads", { token, tenant });
    await s.api("/chat/threads/th_missing00000000", { token, tenant });
    await s.api("/chat/threads");
    const res = await fetch(`${s.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/plain/);
    const text = await res.text();
    const has = (re: RegExp, what: string) => assert.match(text, re, what);
    has(/^switchyard_http_requests_total\{[^}]*route="\/chat\/threads"[^}]*status="200"[^}]*\} \d+/m, "GET /chat/threads 200");
    has(/^switchyard_http_requests_total\{[^}]*route="\/chat\/threads\/:threadId"[^}]*status="404"[^}]*\} \d+/m, "route label is the pattern, not the id");
    has(/^switchyard_http_requests_total\{[^}]*status="401"[^}]*\} \d+/m, "401 counted");
    assert.doesNotMatch(text, /th_missing00000000/, "ids never become labels");
    has(/^switchyard_http_request_duration_seconds_bucket\{/m, "latency histogram");
    has(/^nodejs_eventloop_lag_seconds \d/m, "event-loop lag");
    has(/^# TYPE switchyard_open_connections gauge/m, "open connections gauge");
  });

  it("X-Request-Id is echoed in the header and the error body, and generated when absent", async () => {
    const given = await fetch(`${s.url}/chat/threads`, { headers: { "x-request-id": "my-req-42" } });
    assert.equal(given.status, 401);
    assert.equal(given.headers.get("x-request-id"), "my-req-42");
    assert.equal(((await given.json()) as { error: { requestId: string } }).error.requestId, "my-req-42");
    const generated = await fetch(`${s.url}/nope`);
    const id = generated.headers.get("x-request-id") ?? "";
    assert.ok(id.length >= 8, "generated");
    assert.equal(((await generated.json()) as { error: { requestId: string } }).error.requestId, id);
    const ok = await fetch(`${s.url}/healthz`, { headers: { "x-request-id": "health-1" } });
    assert.equal(ok.headers.get("x-request-id"), "health-1");
    // A hostile id (header injection, huge) is replaced, not echoed.
    const bad = await fetch(`${s.url}/healthz`, { headers: { "x-request-id": "a".repeat(300) } });
    assert.notEqual(bad.headers.get("x-request-id"), "a".repeat(300));
  });

  it("an unknown method on a mounted path authenticates first (401), then 404", async () => {
    const anon = await fetch(`${s.url}/chat/threads`, { method: "DELETE" });
    assert.equal(anon.status, 401);
    const tenant = randomTenant();
    const authed = await fetch(`${s.url}/chat/threads`, { method: "DELETE", headers: { authorization: `Bearer ${await s.token(tenant)}`, "x-tenant-id": tenant } });
    assert.equal(authed.status, 404);
  });
});

describe("tokens never reach the logs", () => {
  let child: ChildServer;
  before(async () => {
    child = await spawnServer({ LOG_LEVEL: "debug" });
  });
  after(() => child.kill("SIGKILL"));

  it("with LOG_LEVEL=debug, neither query tokens nor bearer tokens appear in any line", async () => {
    const tenant = randomTenant();
    const jwt = await child.token(tenant);
    const ids: string[] = [];
    const call = async (path: string, headers: Record<string, string> = {}) => {
      const id = `log-${ids.length}-${Date.now()}`;
      ids.push(id);
      const res = await fetch(`${child.url}${path}`, { headers: { "x-request-id": id, ...headers } });
      await res.arrayBuffer();
      return res.status;
    };
    assert.equal(await call(`/chat/threads?access_token=SECRETTOKEN`, { authorization: `Bearer ${jwt}`, "x-tenant-id": tenant }), 200);
    assert.equal(await call(`/chat/threads?limit=5&access_token=${jwt}&x=1`, { "x-tenant-id": tenant }), 401);
    assert.equal(await call(`/chat/threads?ACCESS_TOKEN=SECRETUPPER&token=SECRETPLAIN`, { authorization: "Bearer SECRETBEARER" }), 401);
    assert.equal(await call(`/no/such/route?access_token=SECRETUNKNOWN`), 404);
    assert.equal(await call(`/healthz?access_token=SECRETHEALTH`), 200);
    // Wait (bounded) until every request has been logged, so the assertion below sees them.
    const deadline = Date.now() + 5000;
    while (!ids.every((id) => child.output.some((l) => l.includes(id)))) {
      assert.ok(Date.now() < deadline, `not all requests were logged:\n${child.output.slice(-10).join("\n")}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const all = child.output.join("\n");
    for (const secret of [jwt, jwt.split(".")[2] as string, "SECRETTOKEN", "SECRETUPPER", "SECRETPLAIN", "SECRETBEARER", "SECRETUNKNOWN", "SECRETHEALTH"]) {
      assert.ok(!all.includes(secret), `log output contains ${secret.slice(0, 16)}…`);
    }
    assert.match(all, /REDACTED/, "the url was logged, redacted");
  });
});

describe("CORS (exact origins from CORS_ORIGINS)", () => {
  let s: TestServer;
  const allowed = "https://app.example";
  before(async () => {
    s = await startTestServer({ CORS_ORIGINS: `${allowed},http://localhost:3000` });
  });
  after(() => s.stop());

  const preflight = (origin: string) =>
    fetch(`${s.url}/chat/threads`, { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type, x-tenant-id" } });

  it("a preflight from an allowed origin is 204 with the allow headers, before any auth", async () => {
    const res = await preflight(allowed);
    assert.equal(res.status, 204);
    assert.equal(res.headers.get("access-control-allow-origin"), allowed);
    assert.match(res.headers.get("access-control-allow-headers") ?? "", /authorization/);
    assert.match(res.headers.get("access-control-allow-headers") ?? "", /x-tenant-id/);
    assert.match(res.headers.get("access-control-allow-methods") ?? "", /POST/);
    assert.match(res.headers.get("vary") ?? "", /Origin/);
  });

  it("other origins (substring, other scheme, other port) get no allow-origin", async () => {
    for (const origin of ["https://app.example.evil.com", "http://app.example", "https://evil.example", "http://localhost:3001", "null"]) {
      const res = await preflight(origin);
      assert.equal(res.status, 403, origin);
      assert.equal(res.headers.get("access-control-allow-origin"), null, origin);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, "forbidden_origin");
    }
  });

  it("actual responses carry allow-origin only for allowed origins", async () => {
    const tenant = randomTenant();
    const headers = { authorization: `Bearer ${await s.token(tenant)}`, "x-tenant-id": tenant };
    const ok = await fetch(`${s.url}/chat/threads`, { headers: { ...headers, origin: allowed } });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get("access-control-allow-origin"), allowed);
    assert.match(ok.headers.get("access-control-expose-headers") ?? "", /x-request-id/);
    const other = await fetch(`${s.url}/chat/threads`, { headers: { ...headers, origin: "https://evil.example" } });
    assert.equal(other.headers.get("access-control-allow-origin"), null);
  });
});

describe("HEAD", () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
  });
  after(() => s.stop());

  it("HEAD answers like GET without a body, and the keep-alive connection stays usable", async () => {
    const { connect } = await import("node:net");
    const sock = connect(s.port, "127.0.0.1");
    let out = "";
    sock.on("data", (d: Buffer) => (out += d.toString("latin1")));
    await new Promise((r) => sock.once("connect", r));
    after(() => sock.destroy());
    const waitFor = async (re: RegExp): Promise<void> => {
      const deadline = Date.now() + 5000;
      while (!re.test(out)) {
        assert.ok(Date.now() < deadline, `no ${re} in ${JSON.stringify(out)}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    sock.write("HEAD /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: head-1\r\n\r\n");
    await waitFor(/x-request-id: head-1\r\n[\s\S]*\r\n\r\n/);
    sock.write("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: get-2\r\n\r\n");
    await waitFor(/\{"status":"ok"\}$/);
    const [head, get] = out.split(/(?=HTTP\/1\.1 )/);
    assert.match(head ?? "", /^HTTP\/1\.1 200 /);
    assert.ok((head ?? "").endsWith("\r\n\r\n"), `HEAD carried a body: ${JSON.stringify(head)}`);
    assert.match(get ?? "", /^HTTP\/1\.1 200 [\s\S]*x-request-id: get-2/);
  });
});

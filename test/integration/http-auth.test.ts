import assert from "node:assert/strict";
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { SignJWT, type JWTPayload } from "jose";
import { TEST_SECRET, randomTenant, startTestServer, type TestServer } from "../helpers/server.js";

// SPEC §2: every way a token can be wrong is a 401 with WWW-Authenticate, and
// the right ones work, on a real node over real HTTP.

const now = (): number => Math.floor(Date.now() / 1000);
const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString("base64url");
const claims = (tenant: string, extra: JWTPayload = {}): JWTPayload => ({ sub: "alice", tenants: [tenant], roles: [], ...extra });

async function sign(alg: "HS256" | "RS256" | "ES256", key: Uint8Array | KeyObject, payload: JWTPayload, exp: number | null = now() + 600): Promise<string> {
  let jwt = new SignJWT(payload).setProtectedHeader({ alg, typ: "JWT" }).setIssuedAt();
  if (exp !== null) jwt = jwt.setExpirationTime(exp);
  return jwt.sign(key);
}

const hs = new TextEncoder().encode(TEST_SECRET);

async function expectStatus(s: TestServer, token: string, tenant: string, status: number, label: string): Promise<void> {
  const res = await fetch(`${s.url}/chat/threads`, { headers: { authorization: `Bearer ${token}`, "x-tenant-id": tenant } });
  const body = (await res.json()) as { error?: { code: string; requestId: string } };
  assert.equal(res.status, status, `${label}: ${JSON.stringify(body)}`);
  if (status === 401) {
    assert.equal(body.error?.code, "unauthenticated", label);
    assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer/, label);
    assert.equal(body.error?.requestId, res.headers.get("x-request-id"), label);
  }
}

describe("JWT verification over HTTP", () => {
  const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const ec = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const rsaPem = rsa.publicKey.export({ type: "spki", format: "pem" }).toString();
  const ecPem = ec.publicKey.export({ type: "spki", format: "pem" }).toString();
  let hsServer: TestServer;
  let rsServer: TestServer;
  let esServer: TestServer;
  let issServer: TestServer;
  const tenant = randomTenant();

  before(async () => {
    hsServer = await startTestServer();
    rsServer = await startTestServer({ AUTH_JWT_SECRET: "", AUTH_JWT_PUBLIC_KEY: rsaPem });
    esServer = await startTestServer({ AUTH_JWT_SECRET: "", AUTH_JWT_PUBLIC_KEY: ecPem });
    issServer = await startTestServer({ AUTH_JWT_ISSUER: "https://idp.example", AUTH_JWT_AUDIENCE: "switchyard" });
  });
  after(async () => {
    await Promise.all([hsServer, rsServer, esServer, issServer].map((s) => s?.stop()));
  });

  it("HS256: a valid token passes; alg none, garbage, bad signature and missing exp are 401", async () => {
    await expectStatus(hsServer, await sign("HS256", hs, claims(tenant)), tenant, 200, "valid");
    const none = `${b64({ alg: "none", typ: "JWT" })}.${b64({ ...claims(tenant), exp: now() + 600 })}.`;
    await expectStatus(hsServer, none, tenant, 401, "alg none");
    const noneUpper = `${b64({ alg: "NONE" })}.${b64({ ...claims(tenant), exp: now() + 600 })}.x`;
    await expectStatus(hsServer, noneUpper, tenant, 401, "alg NONE");
    const other = await sign("HS256", new TextEncoder().encode("another-secret-of-sufficient-length-000"), claims(tenant));
    const good = await sign("HS256", hs, claims(tenant));
    const forged = `${good.split(".").slice(0, 2).join(".")}.${other.split(".")[2]}`;
    await expectStatus(hsServer, forged, tenant, 401, "bad signature");
    const tampered = `${good.split(".")[0]}.${b64({ ...claims(tenant, { tenants: [tenant, "victim"] }), exp: now() + 600 })}.${good.split(".")[2]}`;
    await expectStatus(hsServer, tampered, tenant, 401, "payload changed after signing");
    await expectStatus(hsServer, await sign("HS256", hs, claims(tenant), null), tenant, 401, "missing exp");
    for (const garbage of ["garbage", "a.b.c", "....", "%%%", "x".repeat(9000), `${b64({ alg: "HS256" })}.notjson.sig`]) {
      await expectStatus(hsServer, garbage, tenant, 401, `garbage ${garbage.slice(0, 20)}`);
    }
  });

  it("HS256: missing or malformed required claims are 401", async () => {
    const { sub: _sub, ...noSub } = claims(tenant);
    await expectStatus(hsServer, await sign("HS256", hs, noSub), tenant, 401, "missing sub");
    const { tenants: _t, ...noTenants } = claims(tenant);
    await expectStatus(hsServer, await sign("HS256", hs, noTenants), tenant, 401, "missing tenants");
    await expectStatus(hsServer, await sign("HS256", hs, claims(tenant, { tenants: tenant })), tenant, 401, "tenants not an array");
  });

  it("exp is honoured with 30 s of skew; nbf too", async () => {
    await expectStatus(hsServer, await sign("HS256", hs, claims(tenant), now() - 10), tenant, 200, "expired 10 s ago (within skew)");
    await expectStatus(hsServer, await sign("HS256", hs, claims(tenant), now() - 60), tenant, 401, "expired 60 s ago");
    await expectStatus(hsServer, await sign("HS256", hs, claims(tenant, { nbf: now() + 120 })), tenant, 401, "not before 2 min from now");
    await expectStatus(hsServer, await sign("HS256", hs, claims(tenant, { nbf: now() + 10 })), tenant, 200, "nbf within skew");
  });

  it("the header must be a Bearer token; access_token in the query is not accepted on HTTP routes", async () => {
    const good = await sign("HS256", hs, claims(tenant));
    for (const authorization of [`Basic ${good}`, good, `Bearer`, `Bearer ${good} extra`]) {
      const res = await fetch(`${hsServer.url}/chat/threads`, { headers: { authorization, "x-tenant-id": tenant } });
      assert.equal(res.status, 401, authorization.slice(0, 12));
    }
    const q = await fetch(`${hsServer.url}/chat/threads?access_token=${good}`, { headers: { "x-tenant-id": tenant } });
    assert.equal(q.status, 401);
  });

  it("RS256: a token signed with the private key passes; HS256 signed with the public key is 401", async () => {
    await expectStatus(rsServer, await sign("RS256", rsa.privateKey, claims(tenant)), tenant, 200, "RS256 valid");
    const confused = await sign("HS256", new TextEncoder().encode(rsaPem), claims(tenant));
    await expectStatus(rsServer, confused, tenant, 401, "HS256 with the RSA public key as secret");
    await expectStatus(rsServer, await sign("HS256", hs, claims(tenant)), tenant, 401, "HS256 with some secret");
    await expectStatus(rsServer, await sign("ES256", ec.privateKey, claims(tenant)), tenant, 401, "ES256 to an RSA server");
    const other = generateKeyPairSync("rsa", { modulusLength: 2048 });
    await expectStatus(rsServer, await sign("RS256", other.privateKey, claims(tenant)), tenant, 401, "RS256 with another key");
  });

  it("ES256: a token signed with the P-256 private key passes; other algorithms are 401", async () => {
    await expectStatus(esServer, await sign("ES256", ec.privateKey, claims(tenant)), tenant, 200, "ES256 valid");
    await expectStatus(esServer, await sign("RS256", rsa.privateKey, claims(tenant)), tenant, 401, "RS256 to an EC server");
    await expectStatus(esServer, await sign("HS256", new TextEncoder().encode(ecPem), claims(tenant)), tenant, 401, "HS256 with the EC public key");
    await expectStatus(esServer, await sign("ES256", ec.privateKey, claims(tenant), now() - 120), tenant, 401, "ES256 expired");
  });

  it("iss and aud are checked when configured", async () => {
    const ok = claims(tenant, { iss: "https://idp.example", aud: "switchyard" });
    await expectStatus(issServer, await sign("HS256", hs, ok), tenant, 200, "right iss/aud");
    await expectStatus(issServer, await sign("HS256", hs, { ...ok, iss: "https://evil.example" }), tenant, 401, "wrong iss");
    await expectStatus(issServer, await sign("HS256", hs, { ...ok, aud: "someone-else" }), tenant, 401, "wrong aud");
    const { iss: _i, ...noIss } = ok;
    await expectStatus(issServer, await sign("HS256", hs, noIss), tenant, 401, "missing iss");
    const { aud: _a, ...noAud } = ok;
    await expectStatus(issServer, await sign("HS256", hs, noAud), tenant, 401, "missing aud");
  });

  it("a valid token for another tenant is 403 forbidden_tenant, not 401", async () => {
    const res = await fetch(`${hsServer.url}/chat/threads`, { headers: { authorization: `Bearer ${await sign("HS256", hs, claims(tenant))}`, "x-tenant-id": randomTenant() } });
    assert.equal(res.status, 403);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, "forbidden_tenant");
  });
});

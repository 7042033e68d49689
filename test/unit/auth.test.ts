import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { describe, it } from "node:test";
import { decodeJwt } from "jose";
import { mintToken, parseTtl } from "../../src/auth/mint.js";
import { actingTenant } from "../../src/auth/principal.js";
import { bearerToken, createVerifier, keyFromConfig } from "../../src/auth/verifier.js";
import { AppError } from "../../src/errors/index.js";

const SECRET = "unit-secret-that-is-at-least-32-characters";
const pem = (k: { publicKey: { export(o: { type: "spki"; format: "pem" }): string | Buffer } }): string => k.publicKey.export({ type: "spki", format: "pem" }).toString();

describe("auth", () => {
  it("the algorithm is pinned by the key type", () => {
    assert.equal(keyFromConfig({ AUTH_JWT_SECRET: SECRET, AUTH_JWT_PUBLIC_KEY: undefined }).alg, "HS256");
    assert.equal(keyFromConfig({ AUTH_JWT_SECRET: undefined, AUTH_JWT_PUBLIC_KEY: pem(generateKeyPairSync("rsa", { modulusLength: 2048 })) }).alg, "RS256");
    assert.equal(keyFromConfig({ AUTH_JWT_SECRET: undefined, AUTH_JWT_PUBLIC_KEY: pem(generateKeyPairSync("ec", { namedCurve: "prime256v1" })) }).alg, "ES256");
    // Curves and key types we do not verify are a start-up error, not a silent accept-anything.
    assert.throws(() => keyFromConfig({ AUTH_JWT_SECRET: undefined, AUTH_JWT_PUBLIC_KEY: pem(generateKeyPairSync("ec", { namedCurve: "secp384r1" })) }));
    assert.throws(() => keyFromConfig({ AUTH_JWT_SECRET: undefined, AUTH_JWT_PUBLIC_KEY: pem(generateKeyPairSync("ed25519")) }));
    assert.throws(() => keyFromConfig({ AUTH_JWT_SECRET: undefined, AUTH_JWT_PUBLIC_KEY: undefined }));
  });

  it("mint → verify round trip, with iss/aud and roles", async () => {
    const verify = createVerifier(keyFromConfig({ AUTH_JWT_SECRET: SECRET, AUTH_JWT_PUBLIC_KEY: undefined }), { issuer: "iss-1", audience: "aud-1" });
    const jwt = await mintToken({ secret: SECRET, sub: "bob", tenants: ["t1", "t2"], roles: ["admin"], ttlSeconds: 60, issuer: "iss-1", audience: "aud-1" });
    const p = await verify(jwt);
    assert.deepEqual({ ...p, exp: 0 }, { sub: "bob", tenants: ["t1", "t2"], roles: ["admin"], exp: 0 });
    assert.equal(p.exp, decodeJwt(jwt).exp);
    const noAud = await mintToken({ secret: SECRET, sub: "bob", tenants: ["t1"], issuer: "iss-1" });
    await assert.rejects(verify(noAud), (e) => e instanceof AppError && e.code === "unauthenticated");
    await assert.rejects(verify(""), (e) => e instanceof AppError && e.status === 401);
  });

  it("bearerToken accepts exactly one Bearer credential", () => {
    assert.equal(bearerToken("Bearer abc.def.ghi"), "abc.def.ghi");
    assert.equal(bearerToken("bearer abc"), "abc");
    for (const h of [undefined, "", "Bearer", "Bearer ", "Basic abc", "abc", "Bearer a b"]) assert.equal(bearerToken(h), undefined, String(h));
  });

  it("the acting tenant is required, well-formed and one the token is a member of", () => {
    const p = { sub: "a", tenants: ["t1", "../x"], roles: [], exp: 0 };
    assert.equal(actingTenant(p, "t1"), "t1");
    assert.throws(() => actingTenant(p, undefined), (e) => e instanceof AppError && e.status === 400);
    assert.throws(() => actingTenant(p, ""), (e) => e instanceof AppError && e.status === 400);
    assert.throws(() => actingTenant(p, "t2"), (e) => e instanceof AppError && e.code === "forbidden_tenant");
    // Even a membership claim cannot make a malformed id an acting tenant.
    assert.throws(() => actingTenant(p, "../x"), (e) => e instanceof AppError && e.code === "forbidden_tenant");
  });

  it("ttl parsing", () => {
    assert.equal(parseTtl("1h"), 3600);
    assert.equal(parseTtl("30m"), 1800);
    assert.equal(parseTtl("45"), 45);
    assert.equal(parseTtl("2d"), 172800);
    for (const bad of ["0", "1y", "-1h", "h", "", "400d"]) assert.equal(parseTtl(bad), undefined, bad);
  });
});

import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { describe, it } from "node:test";
import { parseConfig } from "../../src/config/index.js";

const SECRET = "x".repeat(32);

function problems(env: Record<string, string>): string[] {
  const r = parseConfig(env);
  assert.equal(r.ok, false, "expected the configuration to be refused");
  return r.ok ? [] : r.problems;
}

describe("configuration (SPEC §6)", () => {
  it("defaults are the documented ones and the result is frozen", () => {
    const r = parseConfig({});
    assert.ok(r.ok);
    const c = r.config;
    assert.equal(c.PORT, 8080);
    assert.equal(c.HOST, "127.0.0.1");
    assert.equal(c.APP_ENV, "dev");
    assert.equal(c.DATA_DIR, "./data");
    assert.equal(c.CHAT_BUS_BACKEND, "memory");
    assert.equal(c.RAW_STORAGE_BACKEND, "memory");
    assert.equal(c.MAX_MESSAGE_BYTES, 16384);
    assert.equal(c.MAX_EVENT_BYTES, 65536);
    assert.equal(c.MAX_SUBSCRIPTIONS_PER_CONNECTION, 256);
    assert.equal(c.WS_IDLE_TIMEOUT_S, 120);
    assert.deepEqual(c.CORS_ORIGINS, []);
    assert.ok(Object.isFrozen(c));
    assert.throws(() => {
      (c as { PORT: number }).PORT = 1;
    });
  });

  it("every bad variable is named at once", () => {
    const p = problems({ PORT: "eighty", APP_ENV: "production", CHAT_BUS_BACKEND: "kafka", MAX_MESSAGE_BYTES: "-1", LOG_LEVEL: "loud", AUTH_JWT_SECRET: SECRET });
    for (const name of ["PORT", "APP_ENV", "CHAT_BUS_BACKEND", "MAX_MESSAGE_BYTES", "LOG_LEVEL"]) {
      assert.ok(p.some((l) => l.startsWith(`${name}:`)), `${name} not named in ${JSON.stringify(p)}`);
    }
  });

  it("a too-short secret is refused without echoing it", () => {
    const p = problems({ AUTH_JWT_SECRET: "short-secret-value" });
    assert.ok(p.some((l) => l.startsWith("AUTH_JWT_SECRET:")));
    assert.ok(!p.join("\n").includes("short-secret-value"));
  });

  it("prod and staging refuse to start without a JWT key; dev does not", () => {
    for (const env of ["prod", "staging"]) {
      const p = problems({ APP_ENV: env });
      assert.ok(p.some((l) => /AUTH_JWT_SECRET or AUTH_JWT_PUBLIC_KEY/.test(l)), p.join("\n"));
    }
    assert.ok(parseConfig({ APP_ENV: "dev" }).ok);
    assert.ok(parseConfig({ APP_ENV: "prod", AUTH_JWT_SECRET: SECRET }).ok);
  });

  it("a public key must be PEM and exclusive with the secret", () => {
    const pem = generateKeyPairSync("ec", { namedCurve: "prime256v1" }).publicKey.export({ type: "spki", format: "pem" }).toString();
    assert.ok(parseConfig({ AUTH_JWT_PUBLIC_KEY: pem }).ok);
    assert.ok(problems({ AUTH_JWT_PUBLIC_KEY: "not a pem" }).some((l) => l.startsWith("AUTH_JWT_PUBLIC_KEY:")));
    assert.ok(problems({ AUTH_JWT_PUBLIC_KEY: pem, AUTH_JWT_SECRET: SECRET }).some((l) => /exactly one/.test(l)));
    // A PEM that does not parse, or a key type the verifier cannot pin, is a named problem at start.
    const garbage = "-----BEGIN PUBLIC KEY-----\nZ2FyYmFnZQ==\n-----END PUBLIC KEY-----\n";
    const ed = generateKeyPairSync("ed25519").publicKey.export({ type: "spki", format: "pem" }).toString();
    const p384 = generateKeyPairSync("ec", { namedCurve: "secp384r1" }).publicKey.export({ type: "spki", format: "pem" }).toString();
    for (const bad of [garbage, ed, p384]) assert.ok(problems({ AUTH_JWT_PUBLIC_KEY: bad }).some((l) => l.startsWith("AUTH_JWT_PUBLIC_KEY:")));
  });

  it("origin lists are exact origins: no wildcard, no path", () => {
    const r = parseConfig({ CORS_ORIGINS: "https://a.example, http://localhost:3000" });
    assert.ok(r.ok);
    assert.deepEqual(r.config.CORS_ORIGINS, ["https://a.example", "http://localhost:3000"]);
    for (const bad of ["*", "https://*.example", "https://a.example/path", "a.example"]) {
      assert.ok(problems({ CORS_ORIGINS: bad }).some((l) => l.startsWith("CORS_ORIGINS")), bad);
    }
  });

  it("an empty string counts as unset", () => {
    const r = parseConfig({ PORT: "", MAX_EVENT_BYTES: "" });
    assert.ok(r.ok);
    assert.equal(r.config.PORT, 8080);
    assert.equal(r.config.MAX_EVENT_BYTES, 65536);
  });
});

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { resolve } from "node:path";
import { describe, it } from "node:test";
import { decodeJwt } from "jose";
import { mintToken } from "../../src/auth/mint.js";
import { TEST_SECRET, randomTenant, spawnServer, tmpDataDir } from "../helpers/server.js";

// The CLI as an operator runs it: `node bin/switchyard.js start|token`, with
// nothing in the environment but what each case sets.

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runCli(args: string[], env: Record<string, string>, timeoutMs = 15_000): Promise<Run> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [resolve("bin/switchyard.js"), ...args], {
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      rej(new Error(`switchyard ${args.join(" ")} did not exit:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      res({ code, stdout, stderr });
    });
  });
}

describe("switchyard CLI", () => {
  it("start with invalid configuration exits 1 naming every bad variable", async (t) => {
    const dir = tmpDataDir();
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const bad = { PORT: "99999", APP_ENV: "qa", CHAT_BUS_BACKEND: "kafka", MAX_MESSAGE_BYTES: "lots", LOG_LEVEL: "chatty", CORS_ORIGINS: "*", WS_IDLE_TIMEOUT_S: "1" };
    const r = await runCli(["start"], { DATA_DIR: dir, ...bad });
    assert.equal(r.code, 1, r.stderr);
    for (const name of Object.keys(bad)) assert.match(r.stderr, new RegExp(`\\b${name}\\b`), `${name} not named:\n${r.stderr}`);
    assert.doesNotMatch(r.stdout + r.stderr, /switchyard listening/);
  });

  it("a public key that does not parse exits 1 naming AUTH_JWT_PUBLIC_KEY (no worker crash loop)", async (t) => {
    const dir = tmpDataDir();
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const r = await runCli(["start"], { DATA_DIR: dir, PORT: "0", AUTH_JWT_PUBLIC_KEY: "-----BEGIN PUBLIC KEY-----\nZ2FyYmFnZQ==\n-----END PUBLIC KEY-----\n" });
    assert.equal(r.code, 1, r.stderr.slice(0, 500));
    assert.match(r.stderr, /AUTH_JWT_PUBLIC_KEY/);
  });

  it("APP_ENV=prod without a JWT key refuses to start and generates nothing", async (t) => {
    const dir = tmpDataDir();
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const r = await runCli(["start"], { APP_ENV: "prod", DATA_DIR: dir, PORT: "0" });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /AUTH_JWT_SECRET or AUTH_JWT_PUBLIC_KEY/);
    const token = await runCli(["token", "--tenant", "t1", "--sub", "alice"], { APP_ENV: "prod", DATA_DIR: dir });
    assert.notEqual(token.code, 0, "no dev key exists to mint with");
  });

  it("dev without a key generates one, says how to mint, and `switchyard token` mints a token it accepts", async (t) => {
    const dir = tmpDataDir();
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const s = await spawnServer({ DATA_DIR: dir, AUTH_JWT_SECRET: "", APP_ENV: "dev" });
    t.after(() => s.kill("SIGKILL"));
    const out = s.output.join("\n");
    assert.match(out, /switchyard token --tenant t1 --sub alice/, "prints how to mint a dev token");

    const tenant = randomTenant();
    const minted = await runCli(["token", "--tenant", tenant, "--sub", "alice", "--admin", "--ttl", "1h"], { DATA_DIR: dir });
    assert.equal(minted.code, 0, minted.stderr);
    const jwt = minted.stdout.trim();
    assert.match(jwt, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    const claims = decodeJwt(jwt);
    assert.equal(claims.sub, "alice");
    assert.deepEqual(claims.tenants, [tenant]);
    assert.deepEqual(claims.roles, ["admin"]);
    const ttl = (claims.exp ?? 0) - Math.floor(Date.now() / 1000);
    assert.ok(ttl > 3500 && ttl <= 3600, `ttl ${ttl}`);

    const res = await s.api("/chat/threads", { token: jwt, tenant, body: { title: "via cli token" } });
    assert.equal(res.status, 201);
    // A token minted with the test secret is not accepted: the generated key is what verifies.
    const foreign = await mintToken({ secret: TEST_SECRET, sub: "alice", tenants: [tenant], ttlSeconds: 600 });
    assert.equal((await s.api("/chat/threads", { token: foreign, tenant })).status, 401);

    // Restart on the same DATA_DIR keeps the key, so the minted token stays valid.
    await s.kill("SIGKILL");
    const again = await spawnServer({ DATA_DIR: dir, AUTH_JWT_SECRET: "", APP_ENV: "dev" });
    t.after(() => again.kill("SIGKILL"));
    assert.equal((await again.api("/chat/threads", { token: jwt, tenant })).status, 200);
  });

  it("token: multiple tenants, missing arguments and a bad ttl", async (t) => {
    const dir = tmpDataDir();
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const env = { DATA_DIR: dir, AUTH_JWT_SECRET: "a-secret-that-is-definitely-32-chars-long" };
    const multi = await runCli(["token", "--tenant", "t1", "--tenant", "t2", "--sub", "bob", "--ttl", "30m"], env);
    assert.equal(multi.code, 0, multi.stderr);
    const c = decodeJwt(multi.stdout.trim());
    assert.deepEqual([c.tenants, c.roles, c.sub], [["t1", "t2"], [], "bob"]);
    assert.ok((c.exp ?? 0) - Math.floor(Date.now() / 1000) <= 1800);
    for (const args of [["token", "--sub", "bob"], ["token", "--tenant", "t1"], ["token", "--tenant", "t1", "--sub", "bob", "--ttl", "forever"]]) {
      const r = await runCli(args, env);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, /usage/);
      assert.equal(r.stdout, "");
    }
    const unknown = await runCli(["frobnicate"], env);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /usage/);
  });
});

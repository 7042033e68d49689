import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { randomBytes } from "node:crypto";
import { pino } from "pino";
import { configFrom } from "../../src/config/index.js";
import { mintToken } from "../../src/auth/mint.js";
import { startNode, type RunningNode } from "../../src/supervisor/node.js";

export const TEST_SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789";

export interface TokenOpts {
  readonly sub?: string;
  readonly admin?: boolean;
  readonly ttlSeconds?: number;
}

export interface TestServer {
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  token(tenants: string | string[], opts?: TokenOpts): Promise<string>;
  /** fetch with Authorization + X-Tenant-Id set from a token and tenant. */
  api(path: string, init?: { method?: string; token?: string; tenant?: string; body?: unknown; headers?: Record<string, string> }): Promise<Response>;
  stop(): Promise<void>;
}

export const tmpDataDir = (): string => mkdtempSync(join(tmpdir(), "sy-test-"));

function apiFor(url: string) {
  return (path: string, init: { method?: string; token?: string; tenant?: string; body?: unknown; headers?: Record<string, string> } = {}) => {
    const headers: Record<string, string> = { ...(init.headers ?? {}) };
    if (init.token) headers.authorization = `Bearer ${init.token}`;
    if (init.tenant) headers["x-tenant-id"] = init.tenant;
    let body: string | undefined;
    if (init.body !== undefined) {
      body = typeof init.body === "string" ? init.body : JSON.stringify(init.body);
      headers["content-type"] ??= "application/json";
    }
    return fetch(`${url}${path}`, { method: init.method ?? (body === undefined ? "GET" : "POST"), headers, body });
  };
}

const tokenFor = (secret: string) => (tenants: string | string[], opts: TokenOpts = {}) =>
  mintToken({
    secret,
    sub: opts.sub ?? "alice",
    tenants: Array.isArray(tenants) ? tenants : [tenants],
    roles: opts.admin ? ["admin"] : [],
    ttlSeconds: opts.ttlSeconds ?? 600,
  });

/** A real node in this process on a loopback port chosen by the OS. */
export async function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  const dataDir = env.DATA_DIR ?? tmpDataDir();
  const config = configFrom({ PORT: "0", DATA_DIR: dataDir, AUTH_JWT_SECRET: TEST_SECRET, LOG_LEVEL: "silent", ACTOR_WORKERS: "1", ...env });
  const node: RunningNode = await startNode(config, pino({ level: config.LOG_LEVEL }));
  const url = `http://127.0.0.1:${node.port}`;
  let stopped = false;
  return {
    url,
    port: node.port,
    dataDir,
    token: tokenFor(config.AUTH_JWT_SECRET ?? TEST_SECRET),
    api: apiFor(url),
    async stop() {
      if (stopped) return;
      stopped = true;
      await node.drain("test teardown");
      if (!env.DATA_DIR) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface ChildServer extends Omit<TestServer, "stop"> {
  readonly child: ChildProcess;
  /** Lines the server wrote (stdout+stderr), for log assertions. */
  readonly output: string[];
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

/** A node as its own OS process (`bin/switchyard.js start`), for kill -9 and signal tests. */
export async function spawnServer(env: Record<string, string> = {}): Promise<ChildServer> {
  const dataDir = env.DATA_DIR ?? tmpDataDir();
  const child = spawn(process.execPath, [resolve("bin/switchyard.js"), "start"], {
    env: { PATH: process.env.PATH ?? "", PORT: "0", DATA_DIR: dataDir, AUTH_JWT_SECRET: TEST_SECRET, LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: string[] = [];
  const port = await new Promise<number>((res, rej) => {
    const timer = setTimeout(() => {
      // Kill it, or its open pipes keep the whole test run alive.
      child.kill("SIGKILL");
      rej(new Error(`server did not start:\n${output.join("\n")}`));
    }, 15_000);
    const onLine = (buf: Buffer) => {
      for (const line of buf.toString().split("\n").filter(Boolean)) {
        output.push(line);
        const m = /"port":(\d+).*switchyard listening/.exec(line);
        if (m) {
          clearTimeout(timer);
          res(Number(m[1]));
        }
      }
    };
    child.stdout.on("data", onLine);
    child.stderr.on("data", onLine);
    child.on("exit", (code) => {
      clearTimeout(timer);
      rej(new Error(`server exited with ${code}:\n${output.join("\n")}`));
    });
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    url, port, dataDir, child, output,
    token: tokenFor(env.AUTH_JWT_SECRET ?? TEST_SECRET),
    api: apiFor(url),
    kill(signal = "SIGKILL") {
      return new Promise((res) => {
        if (child.exitCode !== null || child.signalCode !== null) return res(child.exitCode);
        child.once("exit", (code) => res(code));
        child.kill(signal);
      });
    },
  };
}

export const randomTenant = (): string => `t${randomBytes(5).toString("hex")}`;

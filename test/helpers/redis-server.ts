import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { binarySkipReason, freePort, managedProcess, type TestServer } from "./nats-server.js";

// A private redis-server without persistence, on a fixed free port so that
// stop()/start() brings it back on the same port. Register `destroy` at once.

export const redisSkipReason = (): string | undefined => binarySkipReason("redis-server", "redis-server");

export async function startRedisServer(): Promise<TestServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "sy-redis-"));
  const server = managedProcess(
    "redis-server",
    () => ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir],
    port,
    `redis://127.0.0.1:${port}`,
    [dir],
    "PING\r\n",
  );
  await server.start();
  return server;
}

import type { Config } from "../config/index.js";
import { newId } from "../registry/ids.js";
import type { Bus } from "./bus.js";
import { MemoryBus, MemoryBusHub } from "./memory.js";
import { NatsBus } from "./nats.js";
import { RedisBus } from "./redis.js";
import { subjects } from "./subjects.js";

export type { Bus, BusStatus, MessageHandler, RequestHandler, Subscription } from "./bus.js";
export * from "./errors.js";
export { MemoryBus, MemoryBusHub } from "./memory.js";
export { NatsBus, type NatsConnection } from "./nats.js";
export { RedisBus } from "./redis.js";
export { subjects, type Subjects } from "./subjects.js";

export interface BusDeps {
  /** Shared hub so several in-process "nodes" (tests) see each other on the memory bus. */
  readonly memoryHub?: MemoryBusHub;
  /** Names the NATS connection (server monitoring shows it). */
  readonly nodeId?: string;
}

/**
 * Picks the bus by CHAT_BUS_BACKEND. No fallback here: a node configured for a
 * cluster that silently ran on a memory bus would split the cluster, so a
 * connection failure is a start-up error (BusUnavailableError) for the caller
 * to report.
 */
export async function createBus(config: Pick<Config, "CHAT_BUS_BACKEND" | "NATS_URL" | "NATS_PREFIX" | "REDIS_URL">, deps: BusDeps = {}): Promise<Bus> {
  const kind = config.CHAT_BUS_BACKEND;
  const nodeId = deps.nodeId ?? newId("n");
  switch (kind) {
    case "memory":
      return new MemoryBus(deps.memoryHub);
    case "nats":
      return NatsBus.connect({ servers: config.NATS_URL, name: `switchyard-${nodeId}` });
    case "redis":
      // One inbox per connection, so two buses of one node never read each other's replies.
      return RedisBus.connect(config.REDIS_URL, { inboxSubject: subjects(config.NATS_PREFIX).inbox(newId("i")) });
    default: {
      const unknown: never = kind;
      throw new Error(`CHAT_BUS_BACKEND: unknown bus backend ${String(unknown)}`);
    }
  }
}

import type { Config } from "../config/index.js";
import { createBus, type Bus } from "../bus/index.js";

/**
 * Connects this thread's own bus (threads cannot share a socket), retrying
 * until it succeeds or `stopped()` turns true. A worker respawned while NATS
 * or Redis is down waits here instead of crashing in a loop; meanwhile the
 * node answers 503 for what needs it.
 */
export async function connectBus(
  config: Pick<Config, "CHAT_BUS_BACKEND" | "NATS_URL" | "NATS_PREFIX" | "REDIS_URL" | "NODE_ID">,
  stopped: () => boolean,
  onRetry: (e: unknown, attempt: number) => void = () => {},
): Promise<Bus | undefined> {
  for (let attempt = 1; !stopped(); attempt++) {
    try {
      return await createBus(config, { nodeId: config.NODE_ID });
    } catch (e) {
      onRetry(e, attempt);
      await new Promise((r) => setTimeout(r, Math.min(2000, 100 * attempt)));
    }
  }
  return undefined;
}

export const isClusterMode = (config: Pick<Config, "CHAT_BUS_BACKEND">): boolean => config.CHAT_BUS_BACKEND !== "memory";

/** The directory whose SQLite file holds the shared log and registry in redis mode. */
export function sharedDir(config: Pick<Config, "CLUSTER_SHARED_DIR" | "CHAT_BUS_BACKEND">): string {
  if (!config.CLUSTER_SHARED_DIR) {
    throw new Error("CLUSTER_SHARED_DIR: required when CHAT_BUS_BACKEND=redis (the event log and registry every node on this host shares)");
  }
  return config.CLUSTER_SHARED_DIR;
}

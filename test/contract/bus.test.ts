import { MemoryBus, MemoryBusHub } from "../../src/bus/memory.js";
import { NatsBus } from "../../src/bus/nats.js";
import { RedisBus } from "../../src/bus/redis.js";
import { subjects } from "../../src/bus/subjects.js";
import { newId } from "../../src/registry/ids.js";
import { natsSkipReason, startNatsServer } from "../helpers/nats-server.js";
import { redisSkipReason, startRedisServer } from "../helpers/redis-server.js";
import { describeBusContract } from "./bus.contract.js";

describeBusContract("memory", async () => {
  const hub = new MemoryBusHub();
  return { connect: async () => new MemoryBus(hub) };
});

// Real servers of our own (not the machine's shared ones): the restart case stops them.
if (!natsSkipReason()) {
  describeBusContract("nats", async () => {
    const server = await startNatsServer();
    return {
      connect: () => NatsBus.connect({ servers: server.url, reconnectTimeWaitMs: 100 }),
      stopServer: () => server.stop(),
      startServer: () => server.start(),
      cleanup: () => server.destroy(),
    };
  });
}

if (!redisSkipReason()) {
  describeBusContract("redis", async () => {
    const server = await startRedisServer();
    return {
      connect: () => RedisBus.connect(server.url, { inboxSubject: subjects("sy").inbox(newId("i")) }),
      stopServer: () => server.stop(),
      startServer: () => server.start(),
      cleanup: () => server.destroy(),
    };
  });
}

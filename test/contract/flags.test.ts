import { randomBytes } from "node:crypto";
import { after, before } from "node:test";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { Kvm } from "@nats-io/kv";
import { FirestoreFlagStore, MemoryFlagStore, NatsKvFlagStore } from "../../src/adapters/flags/index.js";
import { emulatorSkipReason, startFirestoreEmulator, type FirestoreEmulator } from "../helpers/firestore-emulator.js";
import { describeFlagStoreContract } from "./flags.contract.js";

describeFlagStoreContract("memory", async () => {
  let shared: MemoryFlagStore | undefined;
  // One process = one memory store: every "node" opens the same instance.
  return { open: async (now) => (shared ??= new MemoryFlagStore({ now })) };
});

// Firestore: the official emulator, one per file, each suite under its own collection prefix.
if (!emulatorSkipReason()) {
  let emu: FirestoreEmulator;
  before(async () => {
    emu = await startFirestoreEmulator();
  });
  after(async () => emu?.dispose());
  describeFlagStoreContract("firestore (emulator)", async () => {
    const prefix = `t${randomBytes(4).toString("hex")}_`;
    // A generous op timeout: the emulator shares 2 cores with the rest of the suite.
    return { open: async (now) => new FirestoreFlagStore(emu.client(), { prefix, now, opTimeoutMs: 20_000 }) };
  });
}

// NATS KV on the machine's own nats-server (JetStream on), in a bucket named by a random prefix
// and destroyed afterwards. NATS_URL overrides the address.
describeFlagStoreContract("nats kv", async () => {
  const prefix = `t${randomBytes(4).toString("hex")}`;
  const conns: NatsConnection[] = [];
  return {
    open: async (now) => {
      const nc = await connect({ servers: process.env.NATS_URL ?? "nats://127.0.0.1:4222" });
      conns.push(nc);
      return NatsKvFlagStore.open(nc, { prefix, now });
    },
    cleanup: async () => {
      const nc = conns[0];
      if (nc) await (await new Kvm(nc).open(NatsKvFlagStore.bucketName(prefix))).destroy();
      for (const c of conns) await c.close();
    },
  };
});

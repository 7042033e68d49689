import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { createLogger } from "../../../../src/observability/logger.js";
import { FirestoreFlagStore, FlagsService } from "../../../../src/adapters/flags/index.js";
import { emulatorSkipReason, startFirestoreEmulator, type FirestoreEmulator } from "../../../helpers/firestore-emulator.js";

// A real provider outage: the Firestore emulator is stopped under a live store. The SDK keeps
// retrying for ~45 s; evaluation must answer the coded default within its own timeout.
describe("FlagsService.isEnabled with Firestore down", { skip: emulatorSkipReason() }, () => {
  let emu: FirestoreEmulator;
  before(async () => {
    emu = await startFirestoreEmulator();
  });
  after(async () => emu?.dispose());

  it("answers the caller's default, never throws, logs the reason; works again after recovery", async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger("debug", { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
    const store = new FirestoreFlagStore(emu.client(), { prefix: `t${randomBytes(4).toString("hex")}_`, opTimeoutMs: 20_000 });
    const svc = new FlagsService(store, logger, 300);
    await store.putOverride("t1", "chat.enabled", { enabled: false });
    assert.equal(await svc.isEnabled("t1", "chat.enabled", true), false, "the stored override while up");

    await emu.stop();
    const t0 = Date.now();
    const pending = [svc.isEnabled("t1", "chat.enabled", true), svc.isEnabled("t1", "chat.enabled", false)];
    assert.deepEqual(await Promise.all(pending), [true, false]);
    assert.ok(Date.now() - t0 < 5000, `bounded by the evaluation timeout (${Date.now() - t0} ms)`);
    const warn = lines.find((l) => l.level === 40 && l.reason === "PROVIDER_NOT_READY");
    assert.ok(warn, "one warn line with the reason");
    assert.equal(warn.adapter, "flags");
    assert.equal(warn.backend, "firestore");
    assert.equal(warn.flag, "chat.enabled");
    assert.equal((await store.health()).ok, false);

    // Back up (empty: the emulator keeps data in memory): the coded default is the stored truth.
    await emu.start();
    const until = Date.now() + 30_000;
    while ((await svc.evaluate("t1", "chat.enabled", false)).reason === "ERROR") {
      assert.ok(Date.now() < until, "evaluation recovers after the emulator is back");
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(await svc.isEnabled("t1", "chat.enabled", false), true);
    // Let the SDK finish the calls the outage left retrying before the client is terminated.
    await store.close();
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MessageChannel } from "node:worker_threads";
import type { GateDecision } from "../../../src/gatechain/gate.js";
import { LeaseHolder, type LeaseRequest, type LeaseResponse, type LeaseRevoke } from "../../../src/gatechain/lease.js";
import { gateError, type GateChainService } from "../../../src/gatechain/service.js";
import { expectAppError, expectAppErrorAsync, openService, T0, type Clock } from "./helpers.js";

/** Deterministic PRNG so the interleavings are reproducible. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ticks = async (n: number): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise<void>((r) => setImmediate(r));
};

/** An async transport with random latency; messages are structured-cloned both ways as a MessagePort would. */
function transport(svc: GateChainService, rnd: () => number, stats = { requests: 0 }) {
  return async (req: LeaseRequest): Promise<LeaseResponse> => {
    stats.requests++;
    await ticks(Math.floor(rnd() * 4));
    const res = svc.granter.handle(structuredClone(req));
    await ticks(Math.floor(rnd() * 4));
    return structuredClone(res);
  };
}

const allowed = (ds: GateDecision[]): number => ds.filter((d) => d.allow).length;

async function setup(env: Record<string, string> = {}, ttlMs = 60_000): Promise<{ svc: GateChainService; clock: Clock }> {
  return openService({ APP_ENV: "prod", GATECHAIN_RATE_PER_S: "1000000", ...env }, { lease: { ttlMs } });
}

describe("GateChain leases", () => {
  it("concurrent holders never admit more than the budget, and unused units come back", async () => {
    const { svc, clock } = await setup();
    await svc.putBudget("t1", { limit: 100, windowSeconds: 3600 });
    await svc.putKpis("t1", { kpis: [] });
    const rnd = mulberry32(42);
    const holders = Array.from({ length: 4 }, () => new LeaseHolder({ request: transport(svc, rnd), clock, initialWant: 8, maxWant: 64 }));
    const wave = async (perHolder: number): Promise<number> => {
      const all = holders.flatMap((h) =>
        Array.from({ length: perHolder }, async () => {
          await ticks(Math.floor(rnd() * 6));
          return h.admit("t1", rnd() < 0.5 ? "message.post" : "ws.publish");
        }),
      );
      const n = allowed(await Promise.all(all));
      await Promise.all(holders.map((h) => h.settled())); // prefetches still on the wire
      return n;
    };
    const release = () => {
      for (const h of holders) svc.granter.handle(structuredClone(h.drain()));
    };

    // Under the budget: everything passes, and the fronts end up holding spare units.
    let total = await wave(15);
    assert.equal(total, 60);
    const held = holders.reduce((n, h) => n + h.held(), 0);
    assert.ok(held > 0);
    // Every unit counted against the budget is either admitted or still held by a front.
    assert.equal(svc.status("t1").budget?.used, total + held);
    release();
    assert.equal(svc.status("t1").budget?.used, total);

    // A flood well over what is left.
    total += await wave(60);
    assert.ok(total <= 100, `admitted ${total}`);
    release();
    assert.equal(svc.status("t1").budget?.used, total);

    // Whatever is left is admissible, and not one unit more.
    const h = holders[0]!;
    while ((await h.admit("t1", "message.post")).allow) total++;
    assert.equal(total, 100);
    const last = await h.admit("t1", "canvas.event");
    assert.deepEqual(last, { allow: false, gate: "budget", reason: "budget_exhausted", status: 403, retryAfterS: 3600 });
    assert.equal(clock.now, T0);
    await svc.close();
  });

  it("a lease never outlives its budget window", async () => {
    const { svc, clock } = await setup();
    await svc.putBudget("t1", { limit: 10, windowSeconds: 60 });
    await svc.putKpis("t1", { kpis: [] });
    const h = new LeaseHolder({ request: transport(svc, mulberry32(1)), clock, initialWant: 4 });
    clock.now = T0 + 59_990;
    assert.equal((await h.admit("t1", "message.post")).allow, true);
    assert.equal(h.held(), 3);
    assert.equal(svc.status("t1").budget?.used, 4);
    clock.now = T0 + 60_000; // the new window: old units are void
    assert.equal(h.tryAdmit("t1", "message.post"), undefined);
    assert.equal(h.held(), 0);
    assert.equal(svc.status("t1").budget?.used, 0);
    assert.equal((await h.admit("t1", "message.post")).allow, true);
    assert.ok(svc.status("t1").budget!.used >= 1);
    await svc.close();
  });

  it("leases take from the rate bucket too: a flood gets at most one second's worth", async () => {
    const { svc, clock } = await setup({ APP_ENV: "dev", GATECHAIN_RATE_PER_S: "10" });
    const rnd = mulberry32(7);
    const holders = Array.from({ length: 3 }, () => new LeaseHolder({ request: transport(svc, rnd), clock }));
    const ds = await Promise.all(holders.flatMap((h) => Array.from({ length: 30 }, () => h.admit("t1", "message.post"))));
    assert.ok(allowed(ds) <= 10, `admitted ${allowed(ds)}`);
    const refused = ds.find((d) => !d.allow);
    assert.deepEqual(refused, { allow: false, gate: "rate", reason: "rate_limited", status: 429, retryAfterS: 1 });
    await svc.close();
  });

  it("most admissions are local: slices grow with demand", async () => {
    const { svc, clock } = await setup({ APP_ENV: "dev" });
    const stats = { requests: 0 };
    const h = new LeaseHolder({ request: transport(svc, mulberry32(3), stats), clock, initialWant: 1, maxWant: 256 });
    let n = 0;
    for (let i = 0; i < 1000; i++) {
      const fast = h.tryAdmit("t1", "message.post");
      const d = fast ?? (await h.admit("t1", "message.post"));
      if (d.allow) n++;
      if (i % 10 === 0) await ticks(1); // let prefetches land, as real traffic would
    }
    assert.equal(n, 1000);
    assert.ok(stats.requests < 40, `${stats.requests} lease requests for 1000 admissions`);
    await svc.close();
  });

  it("an admin change revokes held units at once (killswitch) and they are credited back", async () => {
    const { svc, clock } = await setup();
    await svc.putBudget("t1", { limit: 50, windowSeconds: 3600 });
    await svc.putKpis("t1", { kpis: [] });
    const h = new LeaseHolder({ request: transport(svc, mulberry32(5)), clock, initialWant: 16 });
    svc.granter.onRevoke((msg: LeaseRevoke) => h.revoke(structuredClone(msg)));
    for (let i = 0; i < 3; i++) assert.equal((await h.admit("t1", "message.post")).allow, true);
    assert.ok(h.held() > 0);
    await svc.setKillswitch("t1", "message.post", true);
    assert.equal(h.held(), 0);
    assert.equal(h.tryAdmit("t1", "message.post"), undefined);
    const d = await h.admit("t1", "message.post");
    assert.deepEqual(d, { allow: false, gate: "killswitch", reason: "killswitch_on", status: 403 });
    const err = !d.allow ? gateError(d) : undefined;
    assert.equal(err?.code, "gate_blocked");
    assert.deepEqual(err?.details, { gate: "killswitch", reason: "killswitch_on" });
    // The refused request carried the revoked units back.
    assert.equal(svc.status("t1").budget?.used, 3);
    await svc.setKillswitch("t1", "message.post", false);
    assert.equal((await h.admit("t1", "message.post")).allow, true);
    await svc.close();
  });

  it("KPI observations revoke leases only when the tenant's verdict flips", async () => {
    const { svc, clock } = await setup({ APP_ENV: "dev" });
    await svc.putKpis("t1", { kpis: [{ name: "load", max: 10 }] });
    const revokes: LeaseRevoke[] = [];
    svc.granter.onRevoke((m) => revokes.push(m));
    const h = new LeaseHolder({ request: transport(svc, mulberry32(9)), clock, initialWant: 8 });
    svc.granter.onRevoke((m) => h.revoke(m));
    assert.equal((await h.admit("t1", "message.post")).allow, true);
    await svc.observe("t1", { name: "load", value: 3 });
    await svc.observe("t1", { name: "load", value: 10 });
    assert.equal(revokes.length, 0);
    assert.equal(h.held(), 7);
    await svc.observe("t1", { name: "load", value: 11 });
    assert.deepEqual(revokes, [{ type: "lease.revoke", tenantId: "t1" }]);
    assert.equal(h.held(), 0);
    await svc.observe("t1", { name: "load", value: 12 }); // still blocked: no news
    await svc.observe("t1", { name: "load", value: 1 }); // unblocked: cached denies must go
    assert.equal(revokes.length, 2);
    await svc.close();
  });

  it("works over a real MessagePort (structured clone), including revokes", async (t) => {
    const { svc } = await openService({ APP_ENV: "prod", GATECHAIN_RATE_PER_S: "100000" });
    // A year-long window so the real clock cannot cross a window edge mid-test.
    await svc.putBudget("t1", { limit: 20, windowSeconds: 31_536_000 });
    await svc.putKpis("t1", { kpis: [{ name: "errors", max: 1 }] });
    const { port1: front, port2: supervisor } = new MessageChannel();
    t.after(() => {
      front.close();
      supervisor.close();
    });
    supervisor.on("message", (m: unknown) => {
      const res = svc.granter.handle(m);
      if (res) supervisor.postMessage(res);
    });
    svc.granter.onRevoke((msg) => supervisor.postMessage(msg));
    const pending = new Map<number, (r: LeaseResponse) => void>();
    const h = new LeaseHolder({
      request: (req) => new Promise((resolve) => (pending.set(req.id, resolve), front.postMessage(req))),
    });
    front.on("message", (m: LeaseResponse | LeaseRevoke) => {
      if (m.type === "lease.revoke") h.revoke(m);
      else pending.get(m.id)?.(m), pending.delete(m.id);
    });
    const ds = await Promise.all(Array.from({ length: 10 }, () => h.admit("t1", "raw.register")));
    assert.equal(allowed(ds), 10);
    assert.ok(h.held() > 0);
    await svc.observe("t1", { name: "errors", value: 2 });
    const deadline = Date.now() + 5000;
    while (h.held() > 0 && Date.now() < deadline) await ticks(1); // the revoke travels over the port
    assert.equal(h.held(), 0);
    const d = await h.admit("t1", "raw.register");
    assert.deepEqual(d, { allow: false, gate: "kpi", reason: "kpi_out_of_bounds", status: 403, kpi: "errors" });
    await svc.close();
  });

  it("fails closed: a transport failure rejects the admit (503 not_ready); a bad message is 400", async () => {
    const { svc, clock } = await setup({ APP_ENV: "dev" });
    const h = new LeaseHolder({ request: async () => Promise.reject(new Error("port closed")), clock });
    await expectAppErrorAsync(h.admit("t1", "message.post"), "ERR_NOT_READY");
    expectAppError(() => svc.granter.handle({ type: "lease.request", id: 1, tenantId: "t1", action: "nope", want: 1, returns: [] }), "ERR_INVALID_REQUEST");
    expectAppError(() => svc.granter.handle({ type: "lease.request", id: 1, tenantId: "t1", action: "message.post", want: 0, returns: [] }), "ERR_INVALID_REQUEST");
    expectAppError(() => svc.granter.handle({ type: "lease.release", returns: [{ leaseId: "1", unused: -1 }] }), "ERR_INVALID_REQUEST");
    await svc.close();
  });
});

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import type { Bus, BusStatus } from "../../src/bus/bus.js";
import { BusClosedError, BusNoRespondersError, BusRemoteError, BusTimeoutError } from "../../src/bus/errors.js";

export interface BusFixture {
  /** A new, independent connection to the same backbone (one per simulated node). */
  connect(): Promise<Bus>;
  /** Stops and restarts the server on the same address; absent for in-process buses. */
  stopServer?: () => Promise<void>;
  startServer?: () => Promise<void>;
  cleanup?: () => Promise<void>;
}

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

/** Bounded polling instead of sleeps: resolves as soon as `cond` holds. */
export async function eventually(cond: () => boolean | Promise<boolean>, ms = 10_000, what = "condition"): Promise<void> {
  const until = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function describeBusContract(label: string, make: () => Promise<BusFixture>): void {
  describe(`Bus contract: ${label}`, () => {
    let fx: BusFixture;
    let pub: Bus;
    let sub: Bus;
    const opened: Bus[] = [];
    // A random prefix per run: suites against a shared server never see each other's traffic.
    const p = `t${randomBytes(4).toString("hex")}`;
    const connect = async (): Promise<Bus> => {
      const b = await fx.connect();
      opened.push(b);
      return b;
    };

    before(async () => {
      fx = await make();
      pub = await connect();
      sub = await connect();
    });
    after(async () => {
      for (const b of opened) await b.close().catch(() => undefined);
      await fx.cleanup?.();
    });

    it("delivers in publish order per subject, from another connection, with the subject", async () => {
      const got: string[] = [];
      const subjects = new Set<string>();
      const s = sub.subscribe(`${p}.order.a`, (d, subject) => {
        got.push(dec(d));
        subjects.add(subject);
      });
      await sub.flush();
      const n = 2000;
      for (let i = 0; i < n; i++) pub.publish(`${p}.order.a`, enc(String(i)));
      await pub.flush();
      await eventually(() => got.length >= n, 10_000, "all messages");
      assert.deepEqual(got, Array.from({ length: n }, (_, i) => String(i)));
      assert.deepEqual([...subjects], [`${p}.order.a`]);
      s.unsubscribe();
    });

    it("stops delivery after unsubscribe", async () => {
      const gone: string[] = [];
      const kept: string[] = [];
      const a = sub.subscribe(`${p}.unsub.a`, (d) => gone.push(dec(d)));
      const b = sub.subscribe(`${p}.unsub.b`, (d) => kept.push(dec(d)));
      await sub.flush();
      pub.publish(`${p}.unsub.a`, enc("before"));
      await pub.flush();
      await eventually(() => gone.length === 1, 5_000, "first message");
      a.unsubscribe();
      await sub.flush();
      pub.publish(`${p}.unsub.a`, enc("after"));
      pub.publish(`${p}.unsub.b`, enc("sentinel"));
      await pub.flush();
      // b's sentinel was published after a's message on the same connection: once it is here, a's would be too.
      await eventually(() => kept.length === 1, 5_000, "sentinel");
      assert.deepEqual(gone, ["before"]);
      b.unsubscribe();
    });

    it("matches `*` (one token) and `>` (the rest)", async () => {
      const star: string[] = [];
      const tail: string[] = [];
      const s1 = sub.subscribe(`${p}.wild.*.x`, (_d, subject) => star.push(subject));
      const s2 = sub.subscribe(`${p}.wild.>`, (_d, subject) => tail.push(subject));
      await sub.flush();
      for (const s of ["a.x", "b.x", "a.y", "a.b.x"]) pub.publish(`${p}.wild.${s}`, enc(s));
      await pub.flush();
      await eventually(() => tail.length === 4, 5_000, "tail matches");
      await sub.flush();
      assert.deepEqual(star.sort(), [`${p}.wild.a.x`, `${p}.wild.b.x`]);
      s1.unsubscribe();
      s2.unsubscribe();
    });

    it("keeps many subjects apart", async () => {
      const n = 300;
      const got = new Map<number, string[]>();
      const subs = Array.from({ length: n }, (_, i) => sub.subscribe(`${p}.many.s${i}`, (d) => {
        const list = got.get(i) ?? [];
        list.push(dec(d));
        got.set(i, list);
      }));
      await sub.flush();
      for (let i = 0; i < n; i++) for (let k = 0; k < 3; k++) pub.publish(`${p}.many.s${i}`, enc(`${i}:${k}`));
      await pub.flush();
      await eventually(() => [...got.values()].reduce((a, l) => a + l.length, 0) >= 3 * n, 10_000, "all subjects");
      for (let i = 0; i < n; i++) assert.deepEqual(got.get(i), [`${i}:0`, `${i}:1`, `${i}:2`]);
      for (const s of subs) s.unsubscribe();
    });

    it("carries large payloads byte-exact, in pub/sub and request-reply", async () => {
      const big = randomBytes(512 * 1024);
      let seen: Uint8Array | undefined;
      const s = sub.subscribe(`${p}.big`, (d) => (seen = Uint8Array.from(d)));
      const r = sub.respond(`${p}.bigreq`, (d) => Uint8Array.from(d).reverse());
      await sub.flush();
      pub.publish(`${p}.big`, big);
      await pub.flush();
      await eventually(() => seen !== undefined, 10_000, "big message");
      assert.ok(Buffer.from(seen ?? []).equals(big));
      const reply = await pub.request(`${p}.bigreq`, big, 10_000);
      assert.ok(Buffer.from(reply).equals(Buffer.from(big).reverse()));
      s.unsubscribe();
      r.unsubscribe();
    });

    it("request-reply: answers, remote errors, no responders, typed timeout", async () => {
      let release: () => void = () => undefined;
      const stuck = new Promise<void>((r) => (release = r));
      const r1 = sub.respond(`${p}.rr.echo.*`, (d, subject) => enc(`${subject}:${dec(d)}`));
      const r2 = sub.respond(`${p}.rr.fail`, () => {
        throw new Error("owner refused");
      });
      const r3 = sub.respond(`${p}.rr.slow`, async () => {
        await stuck;
        return enc("late");
      });
      await sub.flush();
      assert.equal(dec(await pub.request(`${p}.rr.echo.k`, enc("hi"), 5_000)), `${p}.rr.echo.k:hi`);
      await assert.rejects(pub.request(`${p}.rr.fail`, enc("x"), 5_000), (e: unknown) => e instanceof BusRemoteError && /owner refused/.test(e.message));
      const t0 = Date.now();
      await assert.rejects(pub.request(`${p}.rr.nobody`, enc("x"), 5_000), BusNoRespondersError);
      assert.ok(Date.now() - t0 < 4_000, "no responders is reported before the deadline");
      const t1 = Date.now();
      await assert.rejects(pub.request(`${p}.rr.slow`, enc("x"), 300), (e: unknown) => e instanceof BusTimeoutError && e.status === 504);
      assert.ok(Date.now() - t1 >= 280, "the timeout waited for its deadline");
      release();
      // Concurrent requests are correlated to their own replies.
      const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => pub.request(`${p}.rr.echo.c${i}`, enc(String(i)), 5_000)));
      assert.deepEqual(replies.map(dec), Array.from({ length: 50 }, (_, i) => `${p}.rr.echo.c${i}:${i}`));
      for (const r of [r1, r2, r3]) r.unsubscribe();
    });

    it("reports closed and refuses use after close", async () => {
      const b = await connect();
      const seen: BusStatus[] = [];
      b.onStatus((s) => seen.push(s));
      assert.equal(b.status(), "connected");
      await b.close();
      assert.equal(b.status(), "closed");
      assert.deepEqual(seen, ["closed"]);
      assert.throws(() => b.publish(`${p}.closed`, enc("x")), BusClosedError);
      await assert.rejects(async () => b.request(`${p}.closed`, enc("x"), 100), BusClosedError);
    });

    it("survives a server restart: reports reconnecting, reconnects, resubscribes (no replay)", async (t) => {
      if (!fx.stopServer || !fx.startServer) return t.skip("in-process bus: no server to restart");
      const got: string[] = [];
      const statuses: BusStatus[] = [];
      sub.onStatus((s) => statuses.push(s));
      const s = sub.subscribe(`${p}.restart`, (d) => got.push(dec(d)));
      const r = sub.respond(`${p}.restart.rr`, () => enc("pong"));
      await sub.flush();
      await fx.stopServer();
      await eventually(() => sub.status() === "reconnecting" && pub.status() === "reconnecting", 10_000, "reconnecting status");
      // At-most-once: a publish while down neither throws nor is promised.
      pub.publish(`${p}.restart`, enc("during"));
      const t0 = Date.now();
      await fx.startServer();
      await eventually(() => sub.status() === "connected" && pub.status() === "connected", 15_000, "reconnect");
      const reconnectMs = Date.now() - t0;
      // The subscription is restored by the client: a probe published after reconnect arrives.
      let i = 0;
      await eventually(() => {
        pub.publish(`${p}.restart`, enc(`after${i++}`));
        return got.some((g) => g.startsWith("after"));
      }, 10_000, "delivery after reconnect");
      assert.equal(dec(await pub.request(`${p}.restart.rr`, enc("ping"), 5_000)), "pong");
      assert.ok(statuses.includes("reconnecting") && statuses.at(-1) === "connected", `statuses: ${statuses.join(",")}`);
      t.diagnostic(`${label}: reconnected ${reconnectMs} ms after the server came back; "during" delivered: ${got.includes("during")}`);
      s.unsubscribe();
      r.unsubscribe();
    });
  });
}

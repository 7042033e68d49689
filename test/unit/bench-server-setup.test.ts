// A scenario's node flags reach every server process it starts, switchyard's and the peers'
// alike (the idle scenario measures RSS with a capped young generation, and the comparison is
// fair only if every system runs with the same cap).
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { wsPeer } from "../../bench/targets/peers.js";
import { switchyardTarget } from "../../bench/targets/switchyard.js";
import { planCores } from "../../bench/lib/system.js";
import type { RunningTarget, Target } from "../../bench/targets/target.js";
import { idle } from "../../bench/scenarios/idle.js";

const cmdline = (pid: number): string[] => readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);

describe("bench server setup", () => {
  const running: RunningTarget[] = [];
  after(async () => {
    await Promise.all(running.map((r) => r.stop().catch(() => undefined)));
  });

  const cases: Array<[string, Target]> = [["a peer", wsPeer], ["switchyard", switchyardTarget]];
  for (const [name, target] of cases) {
    test(`${name} starts with the scenario's node flags, ahead of its script`, async (t) => {
      const missing = target.unavailable();
      if (missing) return t.skip(missing);
      const r = await target.start(planCores(), { env: {}, nodeArgs: ["--max-semi-space-size=1", "--stack-size=900"] });
      running.push(r);
      const args = cmdline(r.pid);
      const script = args.findIndex((a) => a.endsWith(".js"));
      assert.ok(script > 0, `a script in ${args.join(" ")}`);
      for (const flag of ["--max-semi-space-size=1", "--stack-size=900"]) {
        const at = args.indexOf(flag);
        assert.ok(at > 0 && at < script, `${flag} before the script: ${args.join(" ")}`);
      }
      await r.stop();
      running.splice(running.indexOf(r), 1);
    });
  }

  test("without node flags a server gets none of them", async () => {
    const r = await wsPeer.start(planCores());
    running.push(r);
    assert.equal(cmdline(r.pid).some((a) => a.startsWith("--max-semi-space-size")), false);
  });

  test("the idle scenario asks every system for a capped young generation", () => {
    assert.deepEqual(idle.serverNodeArgs, ["--max-semi-space-size=1"]);
  });
});

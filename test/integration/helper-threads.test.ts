import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { after, describe, it } from "node:test";
import { randomTenant, spawnServer, startTestServer, type ChildServer, type TestServer } from "../helpers/server.js";

/** Each thread's nice value, from /proc/<pid>/task/<tid>/stat (field 19). */
function niceOf(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    out.set(Number(tid), Number(fields[16]));
  }
  return out;
}

describe("helper thread priority (HELPER_THREAD_NICE)", { skip: !existsSync("/proc/thread-self") && "needs Linux /proc" }, () => {
  const servers: ChildServer[] = [];
  after(async () => {
    for (const s of servers) await s.kill("SIGKILL");
  });

  it("a node lowers every thread but the supervisor, its front and its actor workers, and still serves", async () => {
    const s = await spawnServer({ HELPER_THREAD_NICE: "5", ACTOR_WORKERS: "2", FRONT_WORKERS: "1" });
    servers.push(s);
    const pid = s.child.pid as number;
    const nice = niceOf(pid);
    const serving = [...nice].filter(([, n]) => n === 0).map(([t]) => t);
    const helpers = [...nice].filter(([, n]) => n === 5);
    assert.equal(nice.get(pid), 0, "the supervisor's own thread keeps its priority");
    assert.equal(serving.length, 4, `supervisor + 1 front + 2 actor workers at 0, got ${serving.length} of ${nice.size}`);
    assert.equal(helpers.length, nice.size - 4, "every other thread is at 5");
    assert.ok(helpers.length >= 4, "V8's helper threads were lowered");
    const line = s.output.find((l) => l.includes("helper threads"));
    assert.ok(line, "the node says what it did");
    assert.equal((JSON.parse(line) as { lowered: number }).lowered, helpers.length);

    // Serving threads still serve: a publish is acknowledged durably.
    const tenant = randomTenant();
    const token = await s.token(tenant);
    const created = await s.api("/chat/threads", { token, tenant, body: { title: "t" } });
    assert.equal(created.status, 201);
    const { id } = (await created.json()) as { id: string };
    const sent = await s.api(`/chat/threads/${id}/messages`, { token, tenant, body: { text: "hi" } });
    assert.equal(sent.status, 201);
  });

  it("two nodes in one process never lower each other's serving threads", async () => {
    // In this test process: its own helper threads go to 5 as well, which nothing after this test minds.
    const nodes: TestServer[] = [];
    try {
      nodes.push(await startTestServer({ HELPER_THREAD_NICE: "5" }));
      const first = [...niceOf(process.pid)].filter(([, n]) => n === 0).map(([t]) => t);
      assert.ok(first.length >= 3, "the test's main thread and the first node's front and actor worker");
      nodes.push(await startTestServer({ HELPER_THREAD_NICE: "5" }));
      const after = niceOf(process.pid);
      for (const tid of first) assert.equal(after.get(tid), 0, `thread ${tid} of the first node kept its priority`);
      assert.ok([...after.values()].filter((n) => n === 0).length >= first.length + 2, "and the second node's front and actor worker too");
      assert.ok([...after.values()].some((n) => n === 5), "helpers were lowered");
    } finally {
      for (const n of nodes) await n.stop();
    }
  });

  it("HELPER_THREAD_NICE=0 leaves every thread alone", async () => {
    const s = await spawnServer({ HELPER_THREAD_NICE: "0" });
    servers.push(s);
    const nice = niceOf(s.child.pid as number);
    assert.deepEqual([...new Set(nice.values())], [0]);
    assert.equal(s.output.some((l) => l.includes("helper threads")), false);
  });
});

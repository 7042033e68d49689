import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { describe, it } from "node:test";
import { SseClient, WsClient, waitUntil } from "../helpers/clients.js";
import { randomTenant, spawnServer, tmpDataDir, type ChildServer } from "../helpers/server.js";

// SPEC §4 drain on SIGTERM, against a real child process: /readyz 503 (or
// refused), WS clients closed with 1001, SSE streams ended, in-flight appends
// finished, exit within 20 s, and nothing acknowledged lost across a restart.

interface Message {
  seq: number;
  clientMsgId: string | null;
}

/** One /readyz probe: the status, or 0 when the connection is refused (listen socket closed). */
async function readyz(url: string): Promise<number> {
  try {
    const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

describe("graceful drain on SIGTERM", () => {
  it("readyz goes 503, WS gets 1001, SSE ends, acknowledged publishes survive, exit within 20 s", async (t) => {
    const dataDir = tmpDataDir();
    t.after(() => rmSync(dataDir, { recursive: true, force: true }));
    const env = { DATA_DIR: dataDir, ACTOR_WORKERS: "2" };
    const s: ChildServer = await spawnServer(env);
    t.after(() => s.kill("SIGKILL"));

    const tenant = randomTenant();
    const token = await s.token(tenant);
    const created = await s.api("/chat/threads", { token, tenant, body: { title: "drain" } });
    assert.equal(created.status, 201);
    const threadId = ((await created.json()) as { id: string }).id;
    const channel = `thread:${threadId}`;
    const ws = await WsClient.connect(s.url, token, tenant);
    t.after(() => ws.close());
    assert.equal((await ws.subscribe(channel)).op, "subscribed");
    const sse = await SseClient.open(`${s.url}/sse/threads/${threadId}?access_token=${token}&tenant_id=${tenant}`);
    t.after(() => sse.close());
    assert.equal(sse.response.status, 200);

    // Publishers run until the node stops answering; every 2xx is an acknowledged message.
    const acked = new Map<string, number>();
    const refusals: string[] = [];
    let stop = false;
    const publisher = async (p: number) => {
      for (let i = 0; !stop; i++) {
        const clientMsgId = `d-${p}-${i}`;
        try {
          const res = await s.api(`/chat/threads/${threadId}/messages`, { token, tenant, body: { text: `m ${clientMsgId}`, clientMsgId } });
          const body = (await res.json()) as { seq?: number; error?: { code: string } };
          if (res.status === 201) acked.set(clientMsgId, body.seq as number);
          else {
            refusals.push(`${res.status} ${body.error?.code}`);
            return;
          }
        } catch (e) {
          refusals.push(`fetch failed: ${(e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : String(e)}`);
          return;
        }
      }
    };
    const publishers = [0, 1, 2].map((p) => publisher(p));
    await waitUntil(() => acked.size >= 20, 15_000, "20 acknowledged publishes before SIGTERM");

    const exited = new Promise<{ code: number | null; at: number }>((resolve) => s.child.once("exit", (code) => resolve({ code, at: Date.now() })));
    const termAt = Date.now();
    s.child.kill("SIGTERM");

    // Readiness: once it is not 200 it never is again (503 while draining, then refused).
    const probes: number[] = [];
    for (;;) {
      const status = await readyz(s.url);
      probes.push(status);
      if (status === 0) break;
      assert.ok(Date.now() - termAt < 20_000, "readyz never stopped answering");
      if (s.child.exitCode !== null) break;
    }
    const firstNot200 = probes.findIndex((p) => p !== 200);
    assert.ok(firstNot200 >= 0, `readyz stayed 200: ${probes.join(",")}`);
    assert.ok(probes.slice(firstNot200).every((p) => p === 503 || p === 0), `readyz after the drain began: ${probes.join(",")}`);

    assert.equal(await ws.closed(20_000), 1001);
    await waitUntil(() => sse.ended, 20_000, "the SSE stream to end");
    const { code, at } = await exited;
    stop = true;
    await Promise.all(publishers);
    t.diagnostic(`exit ${code} after ${at - termAt} ms; ${acked.size} acknowledged; readyz probes ${probes.join(",")}; publishers stopped by: ${refusals.join(" | ")}`);
    assert.equal(code, 0, s.output.slice(-20).join("\n"));
    assert.ok(at - termAt < 20_000, `exited ${at - termAt} ms after SIGTERM`);
    assert.ok(s.output.some((l) => l.includes('"drained"')), "the node did not log the end of its drain");
    // Publishers were refused cleanly (503 draining, or a closed connection), never a 500.
    for (const r of refusals) assert.match(r, /^(503 draining|fetch failed)/);

    // What the WS subscriber saw before its 1001 is a gapless prefix.
    const seen = ws.seqs(channel);
    assert.deepEqual(seen, Array.from({ length: seen.length }, (_, i) => i + 1));
    const seenSse = sse.seqs();
    assert.deepEqual(seenSse, Array.from({ length: seenSse.length }, (_, i) => i + 1));

    // Restart on the same DATA_DIR: every acknowledged message is there, exactly once, at its seq.
    const again = await spawnServer(env);
    t.after(() => again.kill("SIGKILL"));
    const hist = (await (await again.api(`/chat/threads/${threadId}/messages?after=0&limit=500`, { token, tenant })).json()) as { items: Message[]; lastSeq: number };
    assert.deepEqual(hist.items.map((m) => m.seq), Array.from({ length: hist.items.length }, (_, i) => i + 1));
    for (const [id, seq] of acked) assert.equal(hist.items.find((m) => m.clientMsgId === id)?.seq, seq, `acknowledged ${id} missing or moved`);
    assert.equal(new Set(hist.items.map((m) => m.clientMsgId)).size, hist.items.length);
    // Anything appended but unacknowledged (in flight at the cut) can only be a publisher's last attempt.
    assert.ok(hist.items.length - acked.size <= 3, `${hist.items.length - acked.size} unacknowledged messages in history`);
    const resumed = await WsClient.connect(again.url, token, tenant);
    t.after(() => resumed.close());
    const sub = await resumed.subscribe(channel, { since: seen.length });
    assert.equal(sub.recovered, true);
    await waitUntil(() => resumed.seqs(channel).length === hist.items.length - seen.length, 10_000, "resume after restart");
    assert.equal(await again.kill("SIGTERM"), 0);
  });
});

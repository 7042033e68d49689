// A load agent: a child process (pinned to the client cores) that holds
// subscriber and publisher connections and answers the orchestrator's
// commands over IPC. Commands are validated; every wait inside is bounded.
import { z } from "zod";
import { pubSpecSchema, subSpecSchema, type OpenResult } from "../lib/protocol.js";
import { Group, openSubscriber, type Conn } from "./subscribers.js";
import { closeSenders, runPublish } from "./publishers.js";

const expectedSchema = z.record(z.string(), z.number().int().nonnegative());
const commandSchema = z.discriminatedUnion("cmd", [
  z.object({
    cmd: z.literal("open"),
    group: z.string().min(1),
    sub: subSpecSchema,
    conns: z.array(z.array(z.string())).max(50_000),
    concurrency: z.number().int().min(1).max(2_000),
    timeoutMs: z.number().int().min(100).max(120_000),
    /** stop starting new connections after this long (the rest count as not attempted) */
    budgetMs: z.number().int().min(100).max(600_000).optional(),
  }),
  z.object({ cmd: z.literal("stats"), expected: expectedSchema, reset: z.boolean(), rebase: z.boolean().default(false) }),
  z.object({
    cmd: z.literal("publish"),
    pub: pubSpecSchema,
    channels: z.array(z.string()).min(1),
    mode: z.enum(["rate", "closed"]),
    rate: z.number().nonnegative(),
    conns: z.number().int().min(1).max(1_000),
    inflight: z.number().int().min(1).max(10_000),
    durationMs: z.number().int().min(1).max(300_000),
    maxMessages: z.number().int().min(1).max(50_000_000),
  }),
  z.object({ cmd: z.literal("closeAll") }),
  z.object({ cmd: z.literal("ping") }),
  z.object({ cmd: z.literal("exit") }),
]);
const envelopeSchema = z.object({ id: z.number().int(), body: z.unknown() });

const groups = new Map<string, Group>();
let conns: Conn[] = [];

async function open(c: Extract<z.infer<typeof commandSchema>, { cmd: "open" }>): Promise<OpenResult> {
  let g = groups.get(c.group);
  if (!g) groups.set(c.group, (g = new Group()));
  const group = g;
  const t0 = performance.now();
  const res: OpenResult = { opened: 0, failed: 0, notAttempted: 0, errorSamples: [], elapsedMs: 0 };
  const deadline = c.budgetMs === undefined ? Infinity : t0 + c.budgetMs;
  let next = 0;
  // A bounded number of handshakes in flight: a burst of thousands would
  // overflow the listen backlog and measure SYN retries, not the server.
  const worker = async (): Promise<void> => {
    while (next < c.conns.length && performance.now() < deadline) {
      const channels = c.conns[next++]!;
      try {
        conns.push(await openSubscriber(c.sub, channels, group, c.timeoutMs));
        res.opened++;
      } catch (err) {
        res.failed++;
        if (res.errorSamples.length < 5) res.errorSamples.push(err instanceof Error ? err.message : String(err));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(c.concurrency, c.conns.length) }, worker));
  res.elapsedMs = performance.now() - t0;
  res.notAttempted = c.conns.length - next;
  return res;
}

async function handle(body: unknown): Promise<unknown> {
  const c = commandSchema.parse(body);
  switch (c.cmd) {
    case "open":
      return open(c);
    case "stats":
      return Object.fromEntries([...groups].map(([name, g]) => [name, g.stats(c.expected, c.reset, c.rebase)]));
    case "publish":
      return runPublish(c);
    case "closeAll": {
      const n = conns.length;
      for (const conn of conns) conn.close();
      conns = [];
      groups.clear();
      await closeSenders();
      return { closed: n };
    }
    case "ping":
      return { pong: true };
    case "exit":
      setImmediate(() => process.exit(0));
      return { bye: true };
  }
}

process.on("message", (raw: unknown) => {
  const env = envelopeSchema.safeParse(raw);
  if (!env.success) return;
  const { id, body } = env.data;
  handle(body).then(
    (result) => process.send?.({ id, ok: true, result }),
    (err: unknown) => process.send?.({ id, ok: false, error: err instanceof Error ? err.message : String(err) }),
  );
});
// The orchestrator going away (even by SIGKILL) must not leave load running.
process.on("disconnect", () => process.exit(0));

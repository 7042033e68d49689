// The targets to beat (issue 6), checked against one run's figures. A target
// that cannot be checked (switchyard or the peer absent) is "n/a", never met.
import type { Goal, TargetResult } from "./report.js";

type Get = (target: string, metric: string) => number | undefined;

interface GoalDef {
  text: string;
  check(get: Get): { ok: boolean; value: string } | undefined;
}

const r2 = (v: number): string => String(Math.round(v * 100) / 100);

/**
 * Every figure judged with ≤ or < is a cost (CPU, latency, memory, a ratio of
 * tails): 0 or less means the measurement failed (a server that died reads as
 * negative CPU), so it is n/a, never a pass.
 */
const measured = (v: number | undefined, dir: "≥" | "≤" | "<"): v is number => v !== undefined && (dir === "≥" || v > 0);

/** switchyard's metric against k × a peer's, in the given direction. */
const vsPeer = (metric: string, peer: string, k: number, dir: "≥" | "≤", text: string): GoalDef => ({
  text,
  check(get) {
    const a = get("switchyard", metric);
    const b = get(peer, metric);
    if (!measured(a, dir) || b === undefined || b <= 0) return undefined;
    return { ok: dir === "≥" ? a >= k * b : a <= k * b, value: `${r2(a / b)}×` };
  },
});

/**
 * The rooms CPU target, with what the uws-durable peer (uWS plus a durable append, nothing else)
 * costs against uWS beside it when it ran: the floor for a server that commits before it delivers.
 */
const withDurableFloor = (goal: GoalDef): GoalDef => ({
  text: goal.text,
  check(get) {
    const c = goal.check(get);
    const floor = get("uws-durable", "serverCpuPct");
    const uws = get("uws", "serverCpuPct");
    if (!c || floor === undefined || floor <= 0 || uws === undefined || uws <= 0) return c;
    return { ok: c.ok, value: `${c.value}; uWS + durable append alone: ${r2(floor / uws)}×` };
  },
});

const absolute = (metric: string, limit: number, dir: "≥" | "≤" | "<", text: string, unit = ""): GoalDef => ({
  text,
  check(get) {
    const a = get("switchyard", metric);
    if (!measured(a, dir)) return undefined;
    return { ok: dir === "≥" ? a >= limit : dir === "≤" ? a <= limit : a < limit, value: `${r2(a)}${unit}` };
  },
});

const GOALS: Record<string, GoalDef[]> = {
  broadcast: [
    vsPeer("sustainableRate", "uws", 0.8, "≥", "sustainable rate ≥ 0.8 × uWS native"),
    vsPeer("sustainableRate", "socketio", 2.5, "≥", "sustainable rate ≥ 2.5 × Socket.IO"),
    vsPeer("cpuUsPerDelivery", "uws", 1.5, "≤", "server µs/delivery ≤ 1.5 × uWS native"),
  ],
  rooms: [
    {
      text: "zero lost, duplicated or reordered deliveries",
      check(get) {
        const bad = ["lost", "duplicated", "reordered"].map((m) => get("switchyard", m));
        if (bad.some((v) => v === undefined)) return undefined;
        const sum = bad.reduce((a, b) => (a ?? 0) + (b ?? 0), 0) ?? 0;
        return { ok: sum === 0, value: `${sum} bad` };
      },
    },
    withDurableFloor(vsPeer("serverCpuPct", "uws", 2, "≤", "server CPU ≤ 2 × uWS native")),
    vsPeer("p99Ms", "socketio", 1, "≤", "p99 no worse than Socket.IO"),
  ],
  idle: [absolute("kbPerConn", 3, "≤", "≤ 3 KB per idle connection", " KB")],
  sse: [
    {
      text: "server µs/delivery ≤ 0.75 × the better SSE peer",
      check(get) {
        const a = get("switchyard", "cpuUsPerDelivery");
        const peers = ["uws-sse", "http-sse"].map((p) => get(p, "cpuUsPerDelivery")).filter((v): v is number => v !== undefined && v > 0);
        if (!measured(a, "≤") || peers.length === 0) return undefined;
        const best = Math.min(...peers);
        return { ok: a <= 0.75 * best, value: `${r2(a / best)}×` };
      },
    },
  ],
  publish: [absolute("wsAcksPerSec", 20_000, "≥", "≥ 20,000 acknowledged durable publishes/s (WS)", "/s")],
  "noisy-neighbour": [absolute("p99Ratio", 2, "<", "quiet tenants' p99 rises by less than 2×", "×")],
};

export function goalsFor(scenario: string, results: TargetResult[]): Goal[] {
  const get: Get = (target, metric) => results.find((r) => r.target === target && r.status === "ok")?.metrics[metric];
  return (GOALS[scenario] ?? []).map((g) => {
    const c = g.check(get);
    return c === undefined ? { text: g.text, status: "n/a" } : { text: g.text, status: c.ok ? "met" : "missed", value: c.value };
  });
}

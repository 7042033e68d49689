// The report: one JSON document per run, and the text table printed at the
// end with absolute figures per system and switchyard ÷ peer ratios.
import type { Percentiles } from "./histogram.js";
import type { CorePlan } from "./system.js";
import type { Metric } from "../scenarios/scenario.js";

export interface TargetResult {
  target: string;
  label: string;
  status: "ok" | "skipped" | "error";
  reason?: string;
  metrics: Record<string, number>;
  latency?: Percentiles;
  throughput?: number;
  notes: string[];
  detail?: unknown;
  /** With --repeat: the figures of each round that ran, in round order (see rounds.ts). */
  rounds?: Record<string, number>[];
  elapsedS: number;
}

export interface Ratio {
  metric: string;
  peer: string;
  /** switchyard ÷ peer */
  ratio: number;
}

export interface Goal {
  text: string;
  status: "met" | "missed" | "n/a";
  value?: string;
}

export interface ScenarioReport {
  name: string;
  description: string;
  params: Record<string, number | string>;
  peerNote?: string;
  /** targets that cannot take part (missing capability), with why */
  notApplicable: string[];
  metrics: Metric[];
  results: TargetResult[];
  ratios: Ratio[];
  goals: Goal[];
}

export interface Report {
  version: 1;
  startedAt: string;
  finishedAt: string;
  argv: string[];
  machine: Record<string, unknown>;
  pinning: CorePlan;
  scenarios: ScenarioReport[];
}

export function ratiosOf(metrics: Metric[], results: TargetResult[]): Ratio[] {
  const sy = results.find((r) => r.target === "switchyard" && r.status === "ok");
  if (!sy) return [];
  const out: Ratio[] = [];
  for (const peer of results) {
    if (peer === sy || peer.status !== "ok") continue;
    for (const m of metrics) {
      if (m.better === "zero" || m.better === "info") continue;
      const a = sy.metrics[m.key];
      const b = peer.metrics[m.key];
      if (a === undefined || b === undefined || b === 0) continue;
      out.push({ metric: m.key, peer: peer.target, ratio: Math.round((a / b) * 100) / 100 });
    }
  }
  return out;
}

/** A multi-line reason (a server's last output, say) on one line, bounded. */
export const oneLine = (s: string): string => s.replace(/\s*\n\s*/g, " | ").slice(0, 400);

const fmt = (v: number | undefined): string => {
  if (v === undefined || Number.isNaN(v)) return "—";
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString("en-US");
  return String(Math.round(v * 100) / 100);
};

/** A figure, with the range of its rounds beside it when there were several (--repeat). */
function cell(r: TargetResult, m: Metric): string {
  const v = fmt(r.metrics[m.key]);
  const values = (r.rounds ?? []).map((x) => x[m.key]).filter((x): x is number => x !== undefined);
  if (values.length < 2 || (m.better !== "higher" && m.better !== "lower")) return v;
  return `${v} [${fmt(Math.min(...values))}–${fmt(Math.max(...values))}]`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  ")).join("\n");
}

export function renderScenario(s: ScenarioReport): string {
  const ok = s.results.filter((r) => r.status === "ok");
  const peers = ok.filter((r) => r.target !== "switchyard");
  const hasSy = ok.some((r) => r.target === "switchyard");
  const head = ["metric", ...ok.map((r) => r.target), ...(hasSy ? peers.map((p) => `sy÷${p.target}`) : [])];
  const rows = [head];
  for (const m of s.metrics) {
    const row = [`${m.label}${m.unit ? ` (${m.unit})` : ""}`, ...ok.map((r) => cell(r, m))];
    if (hasSy) for (const p of peers) row.push(fmt(s.ratios.find((x) => x.metric === m.key && x.peer === p.target)?.ratio));
    rows.push(row);
  }
  const lines = [`== ${s.name}: ${s.description}`, `   ${Object.entries(s.params).map(([k, v]) => `${k}=${v}`).join(" ")}`];
  if (ok.length > 0) lines.push(table(rows));
  for (const r of s.results) {
    if (r.status !== "ok") lines.push(`   ${r.target}: ${r.status}${r.reason ? ` — ${oneLine(r.reason)}` : ""}`);
    for (const n of r.notes) lines.push(`   ${r.target}: ${n}`);
  }
  if (s.notApplicable.length > 0) lines.push(`   not applicable: ${s.notApplicable.join("; ")}${s.peerNote ? ` — ${s.peerNote}` : ""}`);
  for (const g of s.goals) lines.push(`   target ${g.status === "met" ? "MET   " : g.status === "missed" ? "MISSED" : "n/a   "} ${g.text}${g.value ? ` (${g.value})` : ""}`);
  return lines.join("\n");
}

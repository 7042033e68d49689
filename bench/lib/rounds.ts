// `--repeat N`: a scenario runs N rounds, every system once per round (so the
// systems alternate and drift on the machine lands on all of them alike), and
// each system's rounds are folded into one result whose figures are medians.
import type { Metric } from "../scenarios/scenario.js";
import type { TargetResult } from "./report.js";

/** The middle value (the mean of the two middle ones for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * One system's rounds as one result. Each figure is the median of the rounds
 * that ran, except the counts that must be zero (lost, duplicated, …), which
 * are summed: one loss in any round is a loss. The chart's latency and
 * throughput, the notes and the detail come from the median round of the
 * scenario's first compared figure, so they belong to one real run. A round
 * that errored is named in the notes; only when none ran is the result an error.
 */
export function combineRounds(metrics: readonly Metric[], rounds: readonly TargetResult[]): TargetResult {
  const first = rounds[0];
  if (!first) throw new Error("combineRounds needs at least one round");
  if (rounds.length === 1) return first;
  const ok = rounds.filter((r) => r.status === "ok");
  const failed = rounds.map((r, i) => ({ r, round: i + 1 })).filter(({ r }) => r.status !== "ok");
  const failNotes = failed.map(({ r, round }) => `round ${round}: ${r.status}${r.reason ? ` — ${r.reason.split("\n")[0]}` : ""}`);
  if (ok.length === 0) return { ...first, notes: [...first.notes, ...failNotes.slice(1)] };

  const combined: Record<string, number> = {};
  const keys = new Set(ok.flatMap((r) => Object.keys(r.metrics)));
  for (const key of keys) {
    const values = ok.map((r) => r.metrics[key]).filter((v): v is number => v !== undefined);
    const zero = metrics.find((m) => m.key === key)?.better === "zero";
    combined[key] = zero ? values.reduce((a, b) => a + b, 0) : median(values);
  }
  const lead = metrics.find((m) => m.better === "higher" || m.better === "lower")?.key;
  const byLead = lead === undefined ? ok : [...ok].sort((a, b) => (a.metrics[lead] ?? 0) - (b.metrics[lead] ?? 0));
  const mid = byLead[(byLead.length - 1) >> 1]!;
  return {
    ...mid,
    metrics: combined,
    notes: [`${ok.length} of ${rounds.length} rounds ran; each figure is their median (counts that must be 0 are summed), [min–max] beside it`, ...mid.notes, ...failNotes],
    rounds: ok.map((r) => r.metrics),
    elapsedS: Math.round(rounds.reduce((a, r) => a + r.elapsedS, 0) * 10) / 10,
  };
}

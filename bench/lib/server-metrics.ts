// Where switchyard's publish time went during a measurement window, read from
// its own /metrics before and after: the group commits (rate, size, duration),
// the appends' waits for durability, the WS publish latency and each kind of
// thread's garbage-collection pauses. Peers have no such metrics; only systems
// with durable appends are scraped.

/** One scrape, reduced to what the breakdown needs: per metric, its samples summed over labels (workers, fronts). */
export interface Scrape {
  readonly at: number;
  /** `name` (or `name{le}` for a bucket) → value summed over every other label */
  readonly values: ReadonlyMap<string, number>;
}

export interface PathBreakdown {
  commitsPerSec: number;
  eventsPerCommit: number;
  commitP50Ms: number;
  commitP99Ms: number;
  appendWaitP99Ms: number;
  /** absent when no WS publish was acked in the window (HTTP publishes) */
  wsPublishP99Ms?: number;
  /** the busiest front's event-loop delay p99 over the window (each scrape resets it) */
  frontLagP99Ms: number;
  /** the same for the busiest actor worker: a synchronous commit holds its loop */
  actorLagP99Ms: number;
  /** the fronts' GC pauses in the window, every kind (absent when none, or the build has no such metric) */
  frontGc?: GcWindow;
  /** the same for the actor workers */
  actorGc?: GcWindow;
}

/** One kind of thread's garbage-collection pauses over a window, all its threads together. */
export interface GcWindow {
  pausesPerSec: number;
  p99Ms: number;
  /** pause time per second of the window, summed over the threads */
  msPerSec: number;
}

const FRONT_GC = "switchyard_front_gc_pause_seconds";
const ACTOR_GC = "switchyard_actor_gc_pause_seconds";
const HISTOGRAMS = ["switchyard_commit_duration_seconds", "switchyard_commit_events", "switchyard_append_wait_seconds", "switchyard_ws_publish_duration_seconds", FRONT_GC, ACTOR_GC];
/** Gauges per thread, read since the previous scrape: kept as the largest, not summed. */
const FRONT_LAG = "switchyard_front_eventloop_lag_seconds";
const ACTOR_LAG = "switchyard_actor_eventloop_lag_seconds";
const LAGS = [FRONT_LAG, ACTOR_LAG];
const KEPT = [...LAGS, ...HISTOGRAMS];

/** Parses Prometheus text, keeping the histograms above and the fronts' and actors' loop lag. */
export function parseScrape(text: string, at = performance.now()): Scrape {
  const values = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line.startsWith("#") || !KEPT.some((h) => line.startsWith(h))) continue;
    const m = /^([a-z_]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    if (LAGS.includes(m[1] as string)) {
      values.set(m[1] as string, Math.max(values.get(m[1] as string) ?? 0, Number(m[3])));
      continue;
    }
    const le = m[1]?.endsWith("_bucket") ? /le="([^"]+)"/.exec(m[2] ?? "")?.[1] : undefined;
    const key = le === undefined ? (m[1] as string) : `${m[1]}{${le}}`;
    values.set(key, (values.get(key) ?? 0) + Number(m[3]));
  }
  return { at, values };
}

/** Scrapes a node's /metrics; undefined when it does not answer in time (the window then has no server-side line). */
export async function scrape(port: number): Promise<Scrape | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(3_000) });
    return res.ok ? parseScrape(await res.text()) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The q-quantile of a histogram's observations between two scrapes, by linear
 * interpolation inside the bucket it falls in (as PromQL's histogram_quantile):
 * as coarse as the buckets, which is enough to say where the time went.
 */
export function windowQuantile(before: Scrape, after: Scrape, name: string, q: number): number | undefined {
  const bounds: Array<{ le: number; n: number }> = [];
  for (const [key, v] of after.values) {
    const m = new RegExp(`^${name}_bucket\\{(.+)\\}$`).exec(key);
    if (!m) continue;
    bounds.push({ le: m[1] === "+Inf" ? Infinity : Number(m[1]), n: v - (before.values.get(key) ?? 0) });
  }
  bounds.sort((a, b) => a.le - b.le);
  const total = bounds.at(-1)?.n ?? 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  let prevLe = 0;
  let prevN = 0;
  for (const { le, n } of bounds) {
    if (n >= rank) {
      // Past the last finite bound nothing can be interpolated: report that bound.
      if (le === Infinity) return prevLe;
      return prevLe + ((le - prevLe) * (rank - prevN)) / Math.max(1e-12, n - prevN);
    }
    prevLe = le;
    prevN = n;
  }
  return prevLe;
}

const delta = (before: Scrape, after: Scrape, key: string): number => (after.values.get(key) ?? 0) - (before.values.get(key) ?? 0);
const ms = (s: number | undefined): number => Math.round((s ?? 0) * 1e5) / 100;

function gcWindow(before: Scrape, after: Scrape, name: string, seconds: number): GcWindow | undefined {
  const pauses = delta(before, after, `${name}_count`);
  if (pauses <= 0) return undefined;
  return {
    pausesPerSec: Math.round((pauses / seconds) * 10) / 10,
    p99Ms: ms(windowQuantile(before, after, name, 0.99)),
    msPerSec: ms(delta(before, after, `${name}_sum`) / seconds),
  };
}

export function breakdown(before: Scrape, after: Scrape): PathBreakdown | undefined {
  const commits = delta(before, after, "switchyard_commit_events_count");
  if (commits <= 0) return undefined;
  const seconds = Math.max(0.001, (after.at - before.at) / 1000);
  const wsPublish = windowQuantile(before, after, "switchyard_ws_publish_duration_seconds", 0.99);
  const frontGc = gcWindow(before, after, FRONT_GC, seconds);
  const actorGc = gcWindow(before, after, ACTOR_GC, seconds);
  return {
    commitsPerSec: Math.round(commits / seconds),
    eventsPerCommit: Math.round((delta(before, after, "switchyard_commit_events_sum") / commits) * 10) / 10,
    commitP50Ms: ms(windowQuantile(before, after, "switchyard_commit_duration_seconds", 0.5)),
    commitP99Ms: ms(windowQuantile(before, after, "switchyard_commit_duration_seconds", 0.99)),
    appendWaitP99Ms: ms(windowQuantile(before, after, "switchyard_append_wait_seconds", 0.99)),
    ...(wsPublish === undefined ? {} : { wsPublishP99Ms: ms(wsPublish) }),
    frontLagP99Ms: ms(after.values.get(FRONT_LAG)),
    actorLagP99Ms: ms(after.values.get(ACTOR_LAG)),
    ...(frontGc === undefined ? {} : { frontGc }),
    ...(actorGc === undefined ? {} : { actorGc }),
  };
}

/** One line for the run's log and the report's notes. */
export function describeBreakdown(b: PathBreakdown): string {
  const ws = b.wsPublishP99Ms === undefined ? "" : `; WS publish→ack p99 ${b.wsPublishP99Ms} ms`;
  const gc = (thread: string, g: GcWindow | undefined): string[] => (g ? [`${thread} ${g.pausesPerSec}/s, p99 ${g.p99Ms} ms, ${g.msPerSec} ms/s`] : []);
  const gcs = [...gc("front", b.frontGc), ...gc("actor", b.actorGc)];
  const gcPart = gcs.length === 0 ? "" : `; GC pauses ${gcs.join(" / ")}`;
  return `server side: ${b.commitsPerSec} commits/s of ${b.eventsPerCommit} events, commit p50 ${b.commitP50Ms} / p99 ${b.commitP99Ms} ms, append wait p99 ${b.appendWaitP99Ms} ms${ws}; loop lag p99 front ${b.frontLagP99Ms} / actor ${b.actorLagP99Ms} ms${gcPart}`;
}

/** Scrapes around a window of a durable system; `end()` gives the breakdown (undefined for peers or a failed scrape). */
export class ServerPathWindow {
  private constructor(private readonly port: number, private readonly start: Scrape | undefined) {}

  static async begin(port: number, durable: boolean): Promise<ServerPathWindow> {
    return new ServerPathWindow(port, durable ? await scrape(port) : undefined);
  }

  async end(): Promise<PathBreakdown | undefined> {
    if (!this.start) return undefined;
    const after = await scrape(this.port);
    return after && breakdown(this.start, after);
  }
}

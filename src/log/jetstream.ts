import {
  jetstream,
  jetstreamManager,
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type JetStreamClient,
  type JetStreamManager,
  type StoredMsg,
} from "@nats-io/jetstream";
import { z } from "zod";
import type { NatsConnection } from "../bus/nats.js";
import { subjects, type Subjects } from "../bus/subjects.js";
import { resourceKey, type ResourceRef } from "../registry/ids.js";
import { LogConflictError, LogUnavailableError, type AppendEntry, type EventLog, type StoredEvent, type StreamHead } from "./event-log.js";
import { newEpoch } from "./sqlite.js";

// EventLog on JetStream: one stream (`<prefix>_log`, subjects `<prefix>.log.>`),
// per resource three subjects:
//   log.ev.<t>.<k>.<id>        the events, one message each, body {s,k,h,p,t}
//   log.ep.<t>.<k>.<id>        the epoch, written once (insert-if-absent)
//   log.dk.<t>.<k>.<id>.<key>  dedupe markers → the resource seq using that key
// The resource seq (gapless, ours) differs from the stream seq (global, NATS's).
// The owner keeps, per resource, the stream seq of its last event and appends
// with Nats-Expected-Last-Subject-Sequence = that value: a stale or second owner
// is refused (10071 → LogConflictError), never interleaved. Nats-Msg-Id = the
// resource + seq makes a retried publish return the original instead of a copy.
// Epoch and markers live in the same stream on purpose: losing the stream
// loses them together, so a new epoch appears exactly when history is lost.
//
// Costs (RTT = one JetStream API round trip, ~1 ms on loopback):
//   append: 1 RTT per event, serial within a resource (each CAS needs the
//     previous ack's stream seq), resources of one batch in parallel;
//     +1 RTT (parallel) per event carrying a dedupe key.
//   head: 3 parallel gets.  findByDedupeKey: 1 RTT on a miss; on a hit
//     + locating the event: O(log distance-from-the-end) gets.
//   read: locate (as above) + ≤8 events by single gets, more by one ordered consumer.
// Atomicity: server 2.9 has no multi-message atomic publish. A batch is
// validated before anything is written; if a publish then fails, an in-order,
// gapless prefix of some resources may be durable. Callers treat any error as
// "not acknowledged" and reload head(); a client retry finds its event by
// dedupe key. Not safe for concurrent appends to one resource from one instance
// (the owning actor serialises them).

const bodySchema = z.object({
  s: z.number().int().positive(),
  k: z.string().nullable(),
  h: z.string(),
  p: z.record(z.string(), z.unknown()),
  t: z.number(),
});
const markerSchema = z.object({ s: z.number().int().positive() });
const epochSchema = z.object({ epoch: z.string().min(1) });

interface Tip {
  readonly lastSeq: number;
  /** Stream seq of the event with lastSeq (0: no events): the CAS value for the next append. */
  readonly streamSeq: number;
}

interface Located {
  readonly event: StoredEvent;
  readonly streamSeq: number;
}

export interface JetStreamEventLogOptions {
  readonly prefix: string;
  /** 3 in production (with a 3-node JetStream cluster); 1 for a single server. */
  readonly replicas?: number;
  readonly storage?: "file" | "memory";
  /** Per JetStream API call. */
  readonly timeoutMs?: number;
  /** Tries per event publish when the answer is lost (default 2); retries are deduplicated by msg id. */
  readonly publishAttempts?: number;
  /** Fail fast while the bus reports a lost link, instead of waiting out a timeout. */
  readonly isConnected?: () => boolean;
}

const SMALL_READ = 8;
const enc = new TextEncoder();
const dec = new TextDecoder();

export class JetStreamEventLog implements EventLog {
  private readonly tips = new Map<string, Tip>();

  private constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly s: Subjects,
    private readonly opts: JetStreamEventLogOptions,
  ) {}

  /** Opens (creating if absent) the stream. Fails with LogUnavailableError when JetStream cannot be reached. */
  static async open(nc: NatsConnection, opts: JetStreamEventLogOptions): Promise<JetStreamEventLog> {
    const s = subjects(opts.prefix);
    const timeout = opts.timeoutMs ?? 5_000;
    try {
      const jsm = await jetstreamManager(nc, { timeout });
      const found = await jsm.streams.info(s.logStream).catch((e: unknown) => {
        if (e instanceof JetStreamApiError && e.code === JetStreamApiCodes.StreamNotFound) return undefined;
        throw e;
      });
      if (!found) {
        await jsm.streams.add({
          name: s.logStream,
          subjects: [s.logAll],
          storage: opts.storage === "memory" ? StorageType.Memory : StorageType.File,
          num_replicas: opts.replicas ?? 1,
          retention: RetentionPolicy.Limits,
          discard: DiscardPolicy.Old,
          // History is the product: no age or count limits; messages are never deleted one by one.
          max_age: 0,
          deny_delete: true,
          duplicate_window: 120_000_000_000,
        }).catch(async (e: unknown) => {
          // Another node created it first: fine if it is ours.
          if (!(await jsm.streams.info(s.logStream).catch(() => undefined))) throw e;
        });
      } else if (!found.config.subjects?.includes(s.logAll)) {
        throw new Error(`stream ${s.logStream} exists without subject ${s.logAll}`);
      }
      return new JetStreamEventLog(jetstream(nc, { timeout }), jsm, s, opts);
    } catch (e) {
      throw new LogUnavailableError(`JetStream event log unavailable: ${(e as Error).message}`, { cause: e });
    }
  }

  async head(ref: ResourceRef): Promise<StreamHead> {
    return this.guard(async () => {
      const [last, first, epoch] = await Promise.all([
        this.jsm.streams.getMessage(this.s.logStream, { last_by_subj: this.s.logEvents(ref) }),
        this.nextOnSubject(this.s.logEvents(ref), 1),
        this.epoch(ref),
      ]);
      const tip: Tip = last ? { lastSeq: parseEvent(last).seq, streamSeq: last.seq } : { lastSeq: 0, streamSeq: 0 };
      this.tips.set(resourceKey(ref), tip);
      return { lastSeq: tip.lastSeq, epoch, firstSeq: first ? parseEvent(first).seq : tip.lastSeq + 1 };
    });
  }

  async append(entries: readonly AppendEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const groups = new Map<string, { ref: ResourceRef; events: StoredEvent[] }>();
    for (const { ref, event } of entries) {
      const rkey = resourceKey(ref);
      const g = groups.get(rkey) ?? { ref, events: [] };
      g.events.push(event);
      groups.set(rkey, g);
    }
    await this.guard(async () => {
      // 1. Validate the whole batch before writing anything.
      for (const [rkey, g] of groups) {
        const tip = this.tips.get(rkey) ?? (await this.loadTip(g.ref));
        const keys = new Set<string>();
        g.events.forEach((e, i) => {
          if (e.seq !== tip.lastSeq + 1 + i) throw new LogConflictError(`${rkey}: seq ${e.seq} is not next (last ${tip.lastSeq + i})`);
          if (e.dedupeKey === null) return;
          if (keys.has(e.dedupeKey)) throw new LogConflictError(`${rkey}: dedupe key repeated in one batch`);
          keys.add(e.dedupeKey);
        });
      }
      // 2. Claim dedupe keys (markers first: an event is never durable without its marker).
      await Promise.all(entries.filter((e) => e.event.dedupeKey !== null).map((e) => this.claimKey(e.ref, e.event)));
      // 3. Events: serial per resource (CAS chain), resources in parallel.
      await Promise.all([...groups].map(([rkey, g]) => this.publishChain(rkey, g.ref, g.events)));
    }, [...groups.keys()]);
  }

  async read(ref: ResourceRef, afterSeq: number, limit: number): Promise<StoredEvent[]> {
    if (limit <= 0) return [];
    return this.guard(async () => {
      const subject = this.s.logEvents(ref);
      const last = await this.jsm.streams.getMessage(this.s.logStream, { last_by_subj: subject });
      if (!last) return [];
      const lastSeq = parseEvent(last).seq;
      if (lastSeq <= afterSeq) return [];
      const count = Math.min(limit, lastSeq - Math.max(0, afterSeq));
      const start = afterSeq <= 0 ? 1 : await this.locate(subject, afterSeq + 1, last);
      const out: StoredEvent[] = [];
      // Returns whether to keep reading. The first event may be past afterSeq + 1 only if
      // history was trimmed; after it, events are gapless by construction, and a hole
      // stops the read rather than be handed out.
      const take = (e: StoredEvent): boolean => {
        const prev = out.at(-1);
        if (e.seq <= (prev?.seq ?? afterSeq)) return true;
        if (prev && e.seq !== prev.seq + 1) return false;
        out.push(e);
        return out.length < count && e.seq < lastSeq;
      };
      if (count <= SMALL_READ) {
        let at = start;
        for (let m = await this.nextOnSubject(subject, at); m && take(parseEvent(m)); m = await this.nextOnSubject(subject, at)) at = m.seq + 1;
      } else {
        const c = await this.js.consumers.get(this.s.logStream, { filter_subjects: subject, opt_start_seq: start });
        try {
          const it = await c.fetch({ max_messages: count, expires: this.opts.timeoutMs ?? 5_000 });
          for await (const m of it) if (!take(parseBody(m.data))) break;
        } finally {
          await c.delete().catch(() => undefined);
        }
      }
      return out;
    });
  }

  async findByDedupeKey(ref: ResourceRef, key: string): Promise<StoredEvent | undefined> {
    return this.guard(async () => (await this.findKey(ref, key))?.event);
  }

  async close(): Promise<void> {
    // The connection belongs to the bus; nothing of ours to release.
    this.tips.clear();
  }

  // --- internals ---

  private async loadTip(ref: ResourceRef): Promise<Tip> {
    const last = await this.jsm.streams.getMessage(this.s.logStream, { last_by_subj: this.s.logEvents(ref) });
    const tip: Tip = last ? { lastSeq: parseEvent(last).seq, streamSeq: last.seq } : { lastSeq: 0, streamSeq: 0 };
    this.tips.set(resourceKey(ref), tip);
    return tip;
  }

  private async publishChain(rkey: string, ref: ResourceRef, events: StoredEvent[]): Promise<void> {
    const subject = this.s.logEvents(ref);
    for (const e of events) {
      const tip = this.tips.get(rkey) ?? { lastSeq: 0, streamSeq: 0 };
      const data = encodeEvent(e);
      const ack = await this.publishIdempotent(subject, data, `${rkey}:${e.seq}`, tip.streamSeq);
      // Msg-Id dedupe is checked before the CAS: a "duplicate" may be someone else's event with our seq.
      if (ack.duplicate) {
        const stored = await this.jsm.streams.getMessage(this.s.logStream, { seq: ack.seq });
        if (!stored || !Buffer.from(stored.data).equals(Buffer.from(data))) throw new LogConflictError(`${rkey}: seq ${e.seq} already holds another event`);
      }
      this.tips.set(rkey, { lastSeq: e.seq, streamSeq: ack.seq });
    }
  }

  /**
   * One event publish, retried on a lost answer (timeout, leader election): the same
   * Nats-Msg-Id and CAS value make a retry return the first write instead of a copy.
   * A refusal from the server (an API error such as the CAS) is never retried.
   */
  private async publishIdempotent(subject: string, data: Uint8Array, msgID: string, lastSubjectSequence: number) {
    const attempts = this.opts.publishAttempts ?? 2;
    for (let i = 1; ; i++) {
      try {
        return await this.js.publish(subject, data, { msgID, expect: { lastSubjectSequence } });
      } catch (e) {
        const connected = this.opts.isConnected?.() ?? true;
        if (e instanceof JetStreamApiError || i >= attempts || !connected) throw e;
        await new Promise((r) => setTimeout(r, 100 * i));
      }
    }
  }

  private async epoch(ref: ResourceRef): Promise<string> {
    const subject = this.s.logEpoch(ref);
    const found = await this.jsm.streams.getMessage(this.s.logStream, { last_by_subj: subject });
    if (found) return epochSchema.parse(JSON.parse(dec.decode(found.data))).epoch;
    try {
      const epoch = newEpoch();
      await this.js.publish(subject, enc.encode(JSON.stringify({ epoch })), { expect: { lastSubjectSequence: 0 } });
      return epoch;
    } catch (e) {
      if (!isWrongLastSeq(e)) throw e;
      // Another node wrote the epoch first: everyone uses that one.
      const winner = await this.jsm.streams.getMessage(this.s.logStream, { last_by_subj: subject });
      if (!winner) throw e;
      return epochSchema.parse(JSON.parse(dec.decode(winner.data))).epoch;
    }
  }

  private async claimKey(ref: ResourceRef, event: StoredEvent): Promise<void> {
    const key = event.dedupeKey ?? "";
    const subject = this.s.logDedupe(ref, key);
    const data = enc.encode(JSON.stringify({ s: event.seq }));
    let expected = 0;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await this.js.publish(subject, data, { expect: { lastSubjectSequence: expected } });
        return;
      } catch (e) {
        if (!isWrongLastSeq(e)) throw e;
      }
      // A marker exists. If it points at a real event with this key, the key is taken;
      // otherwise it is an orphan of a failed append, and we add ours after it.
      const found = await this.findKey(ref, key);
      if (found) throw new LogConflictError(`${resourceKey(ref)}: dedupe key already used by seq ${found.event.seq}`);
      expected = (await this.jsm.streams.getMessage(this.s.logStream, { last_by_subj: subject }))?.seq ?? 0;
    }
    throw new LogConflictError(`${resourceKey(ref)}: dedupe key contended`);
  }

  private async findKey(ref: ResourceRef, key: string): Promise<Located | undefined> {
    const subject = this.s.logDedupe(ref, key);
    const events = this.s.logEvents(ref);
    let last: StoredMsg | null | undefined;
    for (let m = await this.nextOnSubject(subject, 1); m; m = await this.nextOnSubject(subject, m.seq + 1)) {
      const seq = markerSchema.parse(JSON.parse(dec.decode(m.data))).s;
      last ??= await this.jsm.streams.getMessage(this.s.logStream, { last_by_subj: events });
      if (!last || seq > parseEvent(last).seq) continue;
      const at = await this.locate(events, seq, last);
      const msg = await this.nextOnSubject(events, at);
      const event = msg ? parseEvent(msg) : undefined;
      if (msg && event?.seq === seq && event.dedupeKey === key) return { event, streamSeq: msg.seq };
    }
    return undefined;
  }

  /**
   * Stream seq from which the subject's next message is the event `seq` (1 ≤ seq ≤ last's).
   * Galloping back from the last message, then binary search: O(log distance) gets,
   * so resuming near the head costs a few round trips however long the stream is.
   */
  private async locate(subject: string, seq: number, last: StoredMsg): Promise<number> {
    const lastSeq = parseEvent(last).seq;
    if (seq >= lastSeq) return last.seq;
    let hi = last.seq; // next(hi).seq ≥ target
    let lo = 1;
    for (let step = lastSeq - seq; ; step *= 2) {
      const probe = Math.max(1, hi - step);
      const m = await this.nextOnSubject(subject, probe);
      if (m && parseEvent(m).seq < seq) {
        lo = m.seq + 1;
        break;
      }
      hi = probe;
      if (probe === 1) break;
    }
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const m = await this.nextOnSubject(subject, mid);
      if (!m || parseEvent(m).seq >= seq) hi = mid;
      else lo = m.seq + 1;
    }
    return lo;
  }

  private nextOnSubject(subject: string, fromStreamSeq: number): Promise<StoredMsg | null> {
    // STREAM.MSG.GET with next_by_subj is served by the stream leader (consistent), unlike direct get.
    const query = { seq: fromStreamSeq, next_by_subj: subject } as unknown as { seq: number }; // the client's type lags the server API (2.9 supports next_by_subj)
    return this.jsm.streams.getMessage(this.s.logStream, query);
  }

  /** Translates failures; forgets the tips of touched resources, since what was written is unknown. */
  private async guard<T>(f: () => Promise<T>, touched: string[] = []): Promise<T> {
    if (this.opts.isConnected && !this.opts.isConnected()) throw new LogUnavailableError("NATS link is down");
    try {
      return await f();
    } catch (e) {
      for (const rkey of touched) this.tips.delete(rkey);
      if (e instanceof LogConflictError || e instanceof LogUnavailableError) throw e;
      if (isWrongLastSeq(e)) throw new LogConflictError(`stale owner refused: ${(e as Error).message}`);
      throw new LogUnavailableError(`JetStream event log: ${(e as Error).message}`, { cause: e });
    }
  }
}

function isWrongLastSeq(e: unknown): boolean {
  return e instanceof JetStreamApiError && e.code === JetStreamApiCodes.StreamWrongLastSequence;
}

function encodeEvent(e: StoredEvent): Uint8Array {
  return enc.encode(JSON.stringify({ s: e.seq, k: e.dedupeKey, h: e.bodyHash, p: e.payload, t: e.ts }));
}

function parseBody(data: Uint8Array): StoredEvent {
  const b = bodySchema.parse(JSON.parse(dec.decode(data)));
  return { seq: b.s, dedupeKey: b.k, bodyHash: b.h, payload: b.p, ts: b.t };
}

const parseEvent = (m: StoredMsg): StoredEvent => parseBody(m.data);

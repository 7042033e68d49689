import { resourceKey, type ResourceRef } from "../registry/ids.js";
import { LogConflictError, type AppendEntry, type EventLog, type StoredEvent, type StreamHead } from "./event-log.js";
import { newEpoch } from "./sqlite.js";

interface Stream { epoch: string; events: StoredEvent[]; byKey: Map<string, StoredEvent> }

/** Complete in-memory EventLog: the reference implementation for the contract suite. */
export class MemoryEventLog implements EventLog {
  private readonly streams = new Map<string, Stream>();

  private stream(ref: ResourceRef): Stream {
    const rkey = resourceKey(ref);
    let s = this.streams.get(rkey);
    if (!s) {
      s = { epoch: newEpoch(), events: [], byKey: new Map() };
      this.streams.set(rkey, s);
    }
    return s;
  }

  async head(ref: ResourceRef): Promise<StreamHead> {
    const s = this.stream(ref);
    return { lastSeq: s.events.length, epoch: s.epoch, firstSeq: 1 };
  }

  async append(entries: readonly AppendEntry[]): Promise<void> {
    // Validate the whole batch first so a refused batch changes nothing (atomic like the SQL one).
    const next = new Map<string, number>();
    for (const { ref, event } of entries) {
      const rkey = resourceKey(ref);
      const expected = (next.get(rkey) ?? this.stream(ref).events.length) + 1;
      if (event.seq !== expected) throw new LogConflictError(`${rkey}: seq ${event.seq} is not next`);
      if (event.dedupeKey !== null && this.stream(ref).byKey.has(event.dedupeKey)) {
        throw new LogConflictError(`${rkey}: dedupe key already used`);
      }
      next.set(rkey, event.seq);
    }
    for (const { ref, event } of entries) {
      const s = this.stream(ref);
      s.events.push(event);
      if (event.dedupeKey !== null) s.byKey.set(event.dedupeKey, event);
    }
  }

  async read(ref: ResourceRef, afterSeq: number, limit: number): Promise<StoredEvent[]> {
    const events = this.stream(ref).events;
    return events.slice(Math.max(0, afterSeq), Math.max(0, afterSeq) + limit);
  }

  async findByDedupeKey(ref: ResourceRef, key: string): Promise<StoredEvent | undefined> {
    return this.stream(ref).byKey.get(key);
  }

  async close(): Promise<void> {}
}

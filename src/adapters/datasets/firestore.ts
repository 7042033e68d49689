import type { CollectionReference, DocumentData, Firestore, Query } from "@google-cloud/firestore";
import { pageOf, SinkError, type DatasetEvent, type DatasetPage, type DatasetQuery, type DatasetSink, type SinkHealth } from "./datasets.js";

export interface FirestoreDatasetSinkOptions {
  /** Namespaces the root collection so tests and deployments sharing a project stay apart. */
  readonly prefix?: string;
}

// Layout: <prefix>datasets/t_<tenant>/events/<eventId>. Document id = eventId makes writes
// idempotent (a replayed spool batch overwrites identical documents), and one subcollection
// per tenant lets "dataset == x order by id" run on Firestore's automatic single-field
// indexes, with no composite index to deploy. The payload is stored as JSON text: Firestore
// rejects nested arrays, which are valid JSON payloads.
const BATCH = 400; // under Firestore's 500 writes per batch
const ORDER_BY_ID = "__name__";

export class FirestoreDatasetSink implements DatasetSink {
  readonly backend = "firestore" as const;
  private readonly root: string;

  constructor(private readonly db: Firestore, opts: FirestoreDatasetSinkOptions = {}) {
    const prefix = opts.prefix ?? "";
    if (!/^[A-Za-z0-9_-]*$/.test(prefix)) throw new Error(`FirestoreDatasetSink: bad prefix ${prefix}`);
    this.root = `${prefix}datasets`;
  }

  private events(tenantId: string): CollectionReference<DocumentData> {
    return this.db.collection(this.root).doc(`t_${tenantId}`).collection("events");
  }

  async write(events: readonly DatasetEvent[]): Promise<void> {
    try {
      for (let i = 0; i < events.length; i += BATCH) {
        const batch = this.db.batch();
        for (const e of events.slice(i, i + BATCH)) batch.set(this.events(e.tenantId).doc(e.eventId), toDoc(e));
        await batch.commit();
      }
    } catch (e) {
      throw translate(e);
    }
  }

  async list(tenantId: string, q: DatasetQuery): Promise<DatasetPage> {
    let query: Query<DocumentData> = this.events(tenantId);
    if (q.dataset !== undefined) query = query.where("dataset", "==", q.dataset);
    query = query.orderBy(ORDER_BY_ID);
    if (q.after !== undefined) query = query.startAfter(q.after);
    try {
      const snap = await query.limit(q.limit + 1).get();
      return pageOf(snap.docs.map((d) => fromDoc(d.data())), q.limit);
    } catch (e) {
      throw translate(e);
    }
  }

  async health(): Promise<SinkHealth> {
    try {
      await this.db.collection(this.root).limit(1).get();
      return { ok: true, backend: "firestore" };
    } catch (e) {
      return { ok: false, backend: "firestore", detail: e instanceof Error ? e.message : String(e) };
    }
  }

  async close(): Promise<void> {
    // The client is injected; its owner terminates it.
  }
}

function toDoc(e: DatasetEvent): DocumentData {
  return {
    eventId: e.eventId,
    tenantId: e.tenantId,
    type: e.type,
    dataset: e.dataset,
    payloadJson: JSON.stringify(e.payload),
    occurredAt: e.occurredAt,
    receivedAt: e.receivedAt,
    actor: e.actor ?? null,
  };
}

function fromDoc(d: DocumentData): DatasetEvent {
  const e: DatasetEvent = {
    eventId: String(d.eventId),
    tenantId: String(d.tenantId),
    type: String(d.type),
    dataset: String(d.dataset),
    payload: JSON.parse(String(d.payloadJson)) as Record<string, unknown>,
    occurredAt: String(d.occurredAt),
    receivedAt: String(d.receivedAt),
  };
  return typeof d.actor === "string" ? { ...e, actor: d.actor } : e;
}

// gRPC status codes (google.rpc.Code) the SDK attaches as `code`.
const PERMANENT = new Set([3 /* INVALID_ARGUMENT */, 11 /* OUT_OF_RANGE */]);

function translate(e: unknown): SinkError {
  if (e instanceof SinkError) return e;
  const code = (e as { code?: unknown } | null)?.code;
  const msg = e instanceof Error ? e.message : String(e);
  return new SinkError(`firestore: ${msg}`, { retryable: !(typeof code === "number" && PERMANENT.has(code)), cause: e });
}

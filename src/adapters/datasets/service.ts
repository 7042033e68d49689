import { z } from "zod";
import { AppError } from "../../errors/index.js";
import type { Logger } from "../../observability/logger.js";
import type { DatasetBackend } from "./backend.js";
import { newEventId, type DatasetEvent, type DatasetPage } from "./datasets.js";

/** What the route layer passes in (tenant already checked against the token's memberships). */
export interface DatasetsContext {
  readonly tenantId: string;
  readonly userId?: string;
}

export const AUDIT_DATASET = "audit";
const DEFAULT_DATASET = "events";
const MAX_PAYLOAD_BYTES = 64 * 1024;
const datasetName = z.string().regex(/^[a-z0-9_-]{1,64}$/, "must match [a-z0-9_-]{1,64}");

const acceptBody = z.strictObject({
  type: z.string().min(1).max(64),
  dataset: datasetName.optional(),
  payload: z.record(z.string(), z.unknown()).refine((p) => Buffer.byteLength(JSON.stringify(p)) <= MAX_PAYLOAD_BYTES, "must be at most 64 KiB as JSON"),
  occurredAt: z.iso.datetime({ offset: true }).optional(),
});

// Query strings arrive as text; limit ≤ 500 (SPEC §4).
const listQuery = z.object({
  dataset: datasetName.optional(),
  after: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/).optional(),
  cursor: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export interface AuditEntry {
  readonly tenantId: string;
  /** e.g. "http.mutation", "auth.denied". */
  readonly type: string;
  readonly actor?: string;
  readonly payload: Record<string, unknown>;
}

export class DatasetsService {
  constructor(
    private readonly backend: DatasetBackend,
    private readonly logger: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Never fails because a cloud backend is down: the spool takes the event (SPEC §4). */
  async accept(ctx: DatasetsContext, body: unknown): Promise<{ status: "accepted"; eventId: string; backend: string }> {
    const parsed = acceptBody.safeParse(body);
    if (!parsed.success) throw invalid(parsed.error);
    const b = parsed.data;
    const event = this.event(ctx.tenantId, b.type, b.dataset ?? DEFAULT_DATASET, b.payload, ctx.userId, b.occurredAt);
    const backend = await this.store([event]);
    return { status: "accepted", eventId: event.eventId, backend };
  }

  /** `after` and `cursor` are synonyms: both take the previous page's nextCursor. */
  async list(ctx: DatasetsContext, query: unknown): Promise<DatasetPage> {
    const parsed = listQuery.safeParse(query ?? {});
    if (!parsed.success) throw invalid(parsed.error);
    const q = parsed.data;
    const after = q.after ?? q.cursor;
    return this.backend.list(ctx.tenantId, { limit: q.limit, ...(q.dataset ? { dataset: q.dataset } : {}), ...(after ? { after } : {}) });
  }

  /** Audit events take the same durable path. Never throws: auditing must not fail a request. */
  async audit(entry: AuditEntry): Promise<string | undefined> {
    return (await this.auditMany([entry]))[0];
  }

  /**
   * A front's audit entries of one event-loop turn, stored together: one
   * message and one write (one fsync when spooled) per turn, not per request.
   * Returns the stored events' ids, none when storing failed; never throws.
   */
  async auditMany(entries: readonly AuditEntry[]): Promise<string[]> {
    if (entries.length === 0) return [];
    try {
      const events = entries.map((entry) => this.event(entry.tenantId, entry.type.slice(0, 64), AUDIT_DATASET, entry.payload, entry.actor));
      await this.store(events);
      return events.map((e) => e.eventId);
    } catch (e) {
      const first = entries[0] as AuditEntry;
      this.logger.error(
        { adapter: "datasets", events: entries.length, tenant: first.tenantId, type: first.type, err: e instanceof Error ? e.message : String(e) },
        "audit events could not be stored",
      );
      return [];
    }
  }

  describe(): string {
    return this.backend.describe();
  }

  private event(tenantId: string, type: string, dataset: string, payload: Record<string, unknown>, actor?: string, occurredAt?: string): DatasetEvent {
    const now = this.now();
    const receivedAt = now.toISOString();
    const e: DatasetEvent = {
      eventId: newEventId(now),
      tenantId,
      type,
      dataset,
      payload,
      occurredAt: occurredAt ? new Date(occurredAt).toISOString() : receivedAt,
      receivedAt,
    };
    return actor === undefined ? e : { ...e, actor };
  }

  private async store(events: readonly DatasetEvent[]): Promise<string> {
    try {
      return await this.backend.accept(events);
    } catch (e) {
      // Only the spool itself failing (disk full, DATA_DIR gone) gets here.
      throw new AppError("ERR_NOT_READY", { message: "dataset events cannot be stored now", cause: e });
    }
  }
}

function invalid(err: z.ZodError): AppError {
  return new AppError("ERR_INVALID_REQUEST", { details: err.issues.map((i) => ({ path: i.path.join("."), message: i.message })) });
}

import { jetstream, JetStreamApiCodes, JetStreamApiError, StorageType } from "@nats-io/jetstream";
import { Kvm, type KV } from "@nats-io/kv";
import { z } from "zod";
import type { NatsConnection } from "../bus/nats.js";
import { subjects, type Subjects } from "../bus/subjects.js";
import { AppError } from "../errors/index.js";
import type { ResourceKind, ResourceRef } from "./ids.js";
import type { Page, RegisterInput, Registry, ResourceRecord } from "./registry.js";

// Registry on a JetStream KV bucket (`<prefix>_registry`), key `<tenant>.<kind>.<id>`.
// register() is KV create(): the server's insert-if-absent (expected last
// subject sequence 0), so racing first uses on different nodes agree on one
// record. Reads are not served by replicas (allow_direct off): a record written
// on one node is visible to the next read on any node.
// list() costs one key listing of the tenant's resources of that kind per page
// (O(n) keys, headers only) plus one get per returned item; fine for thousands
// of resources per tenant, not for millions (that would need an index bucket).

const recordSchema = z.object({
  tenant: z.string(),
  kind: z.enum(["thread", "canvas"]),
  id: z.string(),
  createdBy: z.string(),
  createdAt: z.string(),
  title: z.string().nullable(),
  metadata: z.record(z.string(), z.unknown()).nullable(),
});

export interface KvRegistryOptions {
  readonly prefix: string;
  readonly replicas?: number;
  /** Per KV operation. */
  readonly timeoutMs?: number;
  /**
   * Fail fast while the bus reports a lost link. Measured here: a request issued
   * while the client is reconnecting waits out its whole timeout even if the
   * link comes back meanwhile, so answering "not ready" at once is better.
   */
  readonly isConnected?: () => boolean;
  readonly now?: () => Date;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export class KvRegistry implements Registry {
  private constructor(
    private readonly kv: KV,
    private readonly s: Subjects,
    private readonly now: () => Date,
    private readonly isConnected: () => boolean,
  ) {}

  static async open(nc: NatsConnection, opts: KvRegistryOptions): Promise<KvRegistry> {
    const s = subjects(opts.prefix);
    const kv = await unavailable("open registry bucket", () =>
      // The timeout lives on the JetStream client; Kvm(nc) would use the 5 s default.
      new Kvm(jetstream(nc, { timeout: opts.timeoutMs ?? 5_000 })).create(s.registryBucket, {
        history: 1,
        replicas: opts.replicas ?? 1,
        storage: StorageType.File,
        allow_direct: false,
        timeout: opts.timeoutMs ?? 5_000,
      }),
    );
    return new KvRegistry(kv, s, opts.now ?? (() => new Date()), opts.isConnected ?? (() => true));
  }

  async register(ref: ResourceRef, input: RegisterInput): Promise<{ record: ResourceRecord; created: boolean }> {
    const key = this.s.registryKey(ref);
    const record: ResourceRecord = {
      tenant: ref.tenant,
      kind: ref.kind,
      id: ref.id,
      createdBy: input.createdBy,
      createdAt: this.now().toISOString(),
      title: input.title ?? null,
      metadata: input.metadata ?? null,
    };
    this.assertConnected();
    try {
      await this.kv.create(key, enc.encode(JSON.stringify(record)));
      return { record, created: true };
    } catch (e) {
      if (!(e instanceof JetStreamApiError && (e.code === JetStreamApiCodes.StreamWrongLastSequence || e.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown))) {
        throw new AppError("ERR_NOT_READY", { message: "registry unavailable", cause: e, retryAfterS: 1 });
      }
    }
    // Someone registered it first; theirs is the record.
    const existing = await this.get(ref);
    if (!existing) throw new AppError("ERR_NOT_READY", { message: "registry entry exists but cannot be read yet", retryAfterS: 1 });
    return { record: existing, created: false };
  }

  async get(ref: ResourceRef): Promise<ResourceRecord | undefined> {
    const key = this.s.registryKey(ref);
    this.assertConnected();
    const entry = await unavailable("registry get", () => this.kv.get(key));
    if (!entry || entry.operation !== "PUT") return undefined;
    return recordSchema.parse(JSON.parse(dec.decode(entry.value)));
  }

  async list(tenant: string, kind: ResourceKind, opts: { limit: number; cursor?: string | undefined }): Promise<Page<ResourceRecord>> {
    const filter = this.s.registryKeysOf(tenant, kind);
    const cursor = opts.cursor ?? "";
    this.assertConnected();
    const ids = await unavailable("registry list", async () => {
      const out: string[] = [];
      for await (const key of await this.kv.keys(filter)) {
        const id = key.slice(key.lastIndexOf(".") + 1);
        if (id > cursor) out.push(id);
      }
      return out;
    });
    ids.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const page = ids.slice(0, Math.max(0, opts.limit));
    const items = (await Promise.all(page.map((id) => this.get({ tenant, kind, id })))).filter((r): r is ResourceRecord => r !== undefined);
    const last = page.at(-1);
    return { items, nextCursor: ids.length > page.length && last ? last : null };
  }

  async close(): Promise<void> {
    // The connection belongs to the bus.
  }

  private assertConnected(): void {
    if (!this.isConnected()) throw new AppError("ERR_NOT_READY", { message: "registry: NATS link is down", retryAfterS: 1 });
  }
}

async function unavailable<T>(what: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    throw new AppError("ERR_NOT_READY", { message: `${what}: NATS KV unavailable`, cause: e, retryAfterS: 1 });
  }
}

import type { ResourceKind, ResourceRef } from "./ids.js";

// The tenant-namespaced resource registry (SPEC §1). An entry never changes
// once written — a resource never changes tenant — so readers may cache
// positive look-ups forever.

export interface ResourceRecord {
  readonly tenant: string;
  readonly kind: ResourceKind;
  readonly id: string;
  readonly createdBy: string;
  readonly createdAt: string;
  readonly title: string | null;
  readonly metadata: Record<string, unknown> | null;
}

export interface RegisterInput {
  readonly createdBy: string;
  readonly title?: string | null;
  readonly metadata?: Record<string, unknown> | null;
}

export interface Page<T> {
  readonly items: T[];
  readonly nextCursor: string | null;
}

export interface Registry {
  /** Atomic insert-if-absent: concurrent first uses of one id agree on one record. */
  register(ref: ResourceRef, input: RegisterInput): Promise<{ record: ResourceRecord; created: boolean }>;
  get(ref: ResourceRef): Promise<ResourceRecord | undefined>;
  /** A record already held in memory, synchronously; undefined means "ask get", not "missing". */
  peek?(ref: ResourceRef): ResourceRecord | undefined;
  /** Newest first is not promised; ordering is by id, and the cursor is the last id seen. */
  list(tenant: string, kind: ResourceKind, opts: { limit: number; cursor?: string | undefined }): Promise<Page<ResourceRecord>>;
  close(): Promise<void>;
}

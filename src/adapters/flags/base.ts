import { AppError } from "../../errors/index.js";
import { codedDefault, DEFAULT_FLAGS, effectiveFlag, mergeEffective, type FlagDefault } from "./defaults.js";
import { FLAG_KEY_PATTERN, type AdapterHealth, type Flag, type FlagInput, type FlagRecord, type FlagStore } from "./flags.js";

export type Clock = () => Date;

export interface FlagStoreOptions {
  readonly now?: Clock;
  readonly defaults?: Readonly<Record<string, FlagDefault>>;
  /** Set when this store stands in for an unavailable configured backend. */
  readonly fallbackOf?: string;
}

// Every backend stores the same thing: records per owner (null = global, else a tenant id).
// This class does the layering once, so the backends stay thin record stores.
export abstract class RecordFlagStore implements FlagStore {
  abstract readonly backend: FlagStore["backend"];
  protected readonly now: Clock;
  protected readonly defaults: Readonly<Record<string, FlagDefault>>;
  private readonly fallbackOf: string | undefined;

  protected constructor(opts: FlagStoreOptions) {
    this.now = opts.now ?? (() => new Date());
    this.defaults = opts.defaults ?? DEFAULT_FLAGS;
    this.fallbackOf = opts.fallbackOf;
  }

  describe(): string {
    return this.fallbackOf ? `${this.backend} (fallback: ${this.fallbackOf})` : this.backend;
  }

  protected abstract readAll(owner: string | null): Promise<Map<string, FlagRecord>>;
  protected abstract readOne(owner: string | null, key: string): Promise<FlagRecord | undefined>;
  /** Writes the record; true when none existed before. */
  protected abstract upsert(owner: string | null, key: string, rec: FlagRecord): Promise<boolean>;
  protected abstract remove(owner: string | null, key: string): Promise<boolean>;
  abstract health(): Promise<AdapterHealth>;
  abstract close(): Promise<void>;

  async listEffective(tenantId: string): Promise<Flag[]> {
    const [globals, overrides] = await Promise.all([this.readAll(null), this.readAll(tenantId)]);
    return mergeEffective(this.defaults, globals, overrides);
  }

  async get(tenantId: string, key: string): Promise<Flag | undefined> {
    checkKey(key);
    const [global, override] = await Promise.all([this.readOne(null, key), this.readOne(tenantId, key)]);
    return effectiveFlag(key, codedDefault(this.defaults, key), global, override);
  }

  async putOverride(tenantId: string, key: string, input: FlagInput): Promise<{ flag: Flag; created: boolean }> {
    checkKey(key);
    const rec = this.record(input);
    const created = await this.upsert(tenantId, key, rec);
    const global = await this.readOne(null, key);
    return { flag: effectiveFlag(key, codedDefault(this.defaults, key), global, rec)!, created };
  }

  async deleteOverride(tenantId: string, key: string): Promise<boolean> {
    checkKey(key);
    return this.remove(tenantId, key);
  }

  async putGlobal(key: string, input: FlagInput): Promise<{ flag: Flag; created: boolean }> {
    checkKey(key);
    const rec = this.record(input);
    const created = await this.upsert(null, key, rec);
    return { flag: effectiveFlag(key, codedDefault(this.defaults, key), rec, undefined)!, created };
  }

  async deleteGlobal(key: string): Promise<boolean> {
    checkKey(key);
    return this.remove(null, key);
  }

  private record(input: FlagInput): FlagRecord {
    const rollout = input.rollout ?? 100;
    if (!Number.isInteger(rollout) || rollout < 0 || rollout > 100) {
      throw new AppError("ERR_INVALID_REQUEST", { details: [{ path: "rollout", message: "integer 0..100" }] });
    }
    const rec: FlagRecord = { enabled: input.enabled, rollout, updatedAt: this.now().toISOString() };
    return input.description === undefined ? rec : { ...rec, description: input.description };
  }
}

/** Backends derive storage keys from flag keys, so a bad key must never reach them. */
export function checkKey(key: string): void {
  if (!FLAG_KEY_PATTERN.test(key)) {
    throw new AppError("ERR_INVALID_REQUEST", { details: [{ path: "key", message: "must match [a-z0-9._-]{1,128}" }] });
  }
}

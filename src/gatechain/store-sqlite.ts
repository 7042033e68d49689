import { mkdirSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { AppError } from "../errors/index.js";
import type { GateAction } from "./gate.js";
import type { BudgetConfig, BudgetUsage, GateConfigStore, GateStoreContents, KillswitchKey, KpiBound, KpiObservation } from "./store.js";

export const GATECHAIN_DB_FILE = "gatechain.db";

// Its own file rather than the embedded event store: admin writes here are
// rare and must not queue behind the event log's group commits.
const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS gc_budgets (tenant TEXT PRIMARY KEY, lim INTEGER NOT NULL, window_s INTEGER NOT NULL, updated_at TEXT NOT NULL) WITHOUT ROWID`,
  // gc_kpi_tenants records "configured", so an empty KPI list survives a restart as configured.
  `CREATE TABLE IF NOT EXISTS gc_kpi_tenants (tenant TEXT PRIMARY KEY) WITHOUT ROWID`,
  `CREATE TABLE IF NOT EXISTS gc_kpis (tenant TEXT NOT NULL, name TEXT NOT NULL, pos INTEGER NOT NULL, min REAL, max REAL, PRIMARY KEY (tenant, name)) WITHOUT ROWID`,
  `CREATE TABLE IF NOT EXISTS gc_observations (tenant TEXT NOT NULL, name TEXT NOT NULL, value REAL NOT NULL, observed_at TEXT NOT NULL, PRIMARY KEY (tenant, name)) WITHOUT ROWID`,
  `CREATE TABLE IF NOT EXISTS gc_killswitches (tenant TEXT NOT NULL, action TEXT NOT NULL, PRIMARY KEY (tenant, action)) WITHOUT ROWID`,
  `CREATE TABLE IF NOT EXISTS gc_usage (tenant TEXT PRIMARY KEY, window_start INTEGER NOT NULL, used INTEGER NOT NULL) WITHOUT ROWID`,
];

interface Row {
  [k: string]: string | number | null;
}

/** GateConfigStore on one SQLite file (WAL, synchronous=FULL): survives restarts and kill -9. */
export class SqliteGateConfigStore implements GateConfigStore {
  private readonly db: Database.Database;

  constructor(dir: string, file = GATECHAIN_DB_FILE) {
    mkdirSync(dir, { recursive: true });
    this.db = new Database(join(dir, file));
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = FULL");
    this.db.pragma("busy_timeout = 10000");
    for (const sql of SCHEMA) this.db.exec(sql);
  }

  private run<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (cause) {
      throw new AppError("ERR_INTERNAL", { message: `gatechain store: ${what} failed`, cause });
    }
  }

  async load(): Promise<GateStoreContents> {
    return this.run("load", () => {
      const all = (sql: string): Row[] => this.db.prepare(sql).all() as Row[];
      const kpis = new Map<string, KpiBound[]>();
      for (const r of all(`SELECT tenant FROM gc_kpi_tenants`)) kpis.set(String(r.tenant), []);
      for (const r of all(`SELECT tenant, name, min, max FROM gc_kpis ORDER BY tenant, pos`)) {
        kpis.get(String(r.tenant))?.push({ name: String(r.name), min: r.min === null ? null : Number(r.min), max: r.max === null ? null : Number(r.max) });
      }
      return {
        budgets: all(`SELECT tenant, lim, window_s, updated_at FROM gc_budgets`).map((r) => ({
          tenantId: String(r.tenant),
          limit: Number(r.lim),
          windowSeconds: Number(r.window_s),
          updatedAt: String(r.updated_at),
        })),
        kpis: [...kpis].map(([tenantId, list]) => ({ tenantId, kpis: list })),
        observations: all(`SELECT tenant, name, value, observed_at FROM gc_observations`).map((r) => ({
          tenantId: String(r.tenant),
          name: String(r.name),
          value: Number(r.value),
          observedAt: String(r.observed_at),
        })),
        killswitches: all(`SELECT tenant, action FROM gc_killswitches`).map((r) => ({
          tenantId: String(r.tenant),
          action: String(r.action) as GateAction | "*", // written only through setKillswitch, which takes the typed value
        })),
        usage: all(`SELECT tenant, window_start, used FROM gc_usage`).map((r) => ({
          tenantId: String(r.tenant),
          windowStart: Number(r.window_start),
          used: Number(r.used),
        })),
      };
    });
  }

  async putBudget(tenantId: string, b: BudgetConfig): Promise<void> {
    this.run("putBudget", () =>
      this.db
        .prepare(`INSERT INTO gc_budgets (tenant, lim, window_s, updated_at) VALUES (?, ?, ?, ?)
                  ON CONFLICT (tenant) DO UPDATE SET lim = excluded.lim, window_s = excluded.window_s, updated_at = excluded.updated_at`)
        .run(tenantId, b.limit, b.windowSeconds, b.updatedAt),
    );
  }

  async putKpis(tenantId: string, kpis: readonly KpiBound[]): Promise<void> {
    this.run("putKpis", () =>
      this.db.transaction(() => {
        this.db.prepare(`INSERT OR IGNORE INTO gc_kpi_tenants (tenant) VALUES (?)`).run(tenantId);
        this.db.prepare(`DELETE FROM gc_kpis WHERE tenant = ?`).run(tenantId);
        const ins = this.db.prepare(`INSERT INTO gc_kpis (tenant, name, pos, min, max) VALUES (?, ?, ?, ?, ?)`);
        kpis.forEach((k, i) => ins.run(tenantId, k.name, i, k.min, k.max));
        this.db
          .prepare(`DELETE FROM gc_observations WHERE tenant = ? AND name NOT IN (SELECT name FROM gc_kpis WHERE tenant = ?)`)
          .run(tenantId, tenantId);
      })(),
    );
  }

  async putObservation(tenantId: string, o: KpiObservation): Promise<void> {
    this.run("putObservation", () =>
      this.db
        .prepare(`INSERT INTO gc_observations (tenant, name, value, observed_at) VALUES (?, ?, ?, ?)
                  ON CONFLICT (tenant, name) DO UPDATE SET value = excluded.value, observed_at = excluded.observed_at`)
        .run(tenantId, o.name, o.value, o.observedAt),
    );
  }

  async setKillswitch(key: KillswitchKey, on: boolean): Promise<void> {
    this.run("setKillswitch", () =>
      on
        ? this.db.prepare(`INSERT OR IGNORE INTO gc_killswitches (tenant, action) VALUES (?, ?)`).run(key.tenantId, key.action)
        : this.db.prepare(`DELETE FROM gc_killswitches WHERE tenant = ? AND action = ?`).run(key.tenantId, key.action),
    );
  }

  async saveUsage(usage: readonly BudgetUsage[]): Promise<void> {
    if (usage.length === 0) return;
    this.run("saveUsage", () => {
      const up = this.db.prepare(`INSERT INTO gc_usage (tenant, window_start, used) VALUES (?, ?, ?)
                                  ON CONFLICT (tenant) DO UPDATE SET window_start = excluded.window_start, used = excluded.used`);
      this.db.transaction(() => {
        for (const u of usage) up.run(u.tenantId, u.windowStart, u.used);
      })();
    });
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

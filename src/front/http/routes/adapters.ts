import type { Remote } from "../../../rpc/rpc.js";
import type { Route, RouteContext } from "../types.js";
import type { Admit } from "./admit.js";

// Routes over the supervisor's adapters (SPEC §4 Media v2, Raw storage, Feature
// flags, Dataset / audit events). Validation and tenant rules live in the
// services; these routes only map them onto HTTP.

type Ctx = { tenantId: string; userId: string };
const ctxOf = (c: RouteContext): Ctx => ({ tenantId: c.tenantId, userId: c.principal.sub });
const query = (c: RouteContext): Record<string, string> => Object.fromEntries(c.query);

export interface RawApi { register(ctx: Ctx, body: unknown): unknown; get(ctx: Ctx, id: string): unknown; list(ctx: Ctx, q: unknown): unknown }
export interface MediaApi { create(ctx: Ctx, body: unknown): unknown; get(ctx: Ctx, id: string, tenantParam: string | undefined): unknown; list(ctx: Ctx, tenantParam: string | undefined, q: unknown): unknown }
export interface FlagsApi {
  list(ctx: { tenantId: string }): unknown;
  get(ctx: { tenantId: string }, key: string): unknown;
  put(ctx: { tenantId: string }, key: string, body: unknown): { flag: unknown; created: boolean };
  delete(ctx: { tenantId: string }, key: string): void;
}
export interface DatasetsApi { accept(ctx: Ctx, body: unknown): unknown; list(ctx: Ctx, q: unknown): unknown }

export function mediaRoutes(media: Remote<MediaApi>, admit: Admit): Route[] {
  return [
    {
      method: "POST", pattern: "/media-v2/assets", access: "tenant", body: true,
      async handle(c) {
        await admit(c.tenantId, "media.create");
        return { status: 201, body: await media.create(ctxOf(c), c.body) };
      },
    },
    { method: "GET", pattern: "/media-v2/assets", access: "tenant", handle: async (c) => ({ status: 200, body: await media.list(ctxOf(c), c.query.get("tenant_id") ?? undefined, query(c)) }) },
    {
      method: "GET", pattern: "/media-v2/assets/:assetId", access: "tenant",
      handle: async (c) => ({ status: 200, body: await media.get(ctxOf(c), c.params.assetId ?? "", c.query.get("tenant_id") ?? undefined) }),
    },
  ];
}

export function rawRoutes(raw: Remote<RawApi>, admit: Admit): Route[] {
  return [
    {
      method: "POST", pattern: "/nexus/raw/assets", access: "tenant", body: true,
      async handle(c) {
        await admit(c.tenantId, "raw.register");
        return { status: 201, body: await raw.register(ctxOf(c), c.body) };
      },
    },
    { method: "GET", pattern: "/nexus/raw/assets", access: "tenant", handle: async (c) => ({ status: 200, body: await raw.list(ctxOf(c), query(c)) }) },
    { method: "GET", pattern: "/nexus/raw/assets/:assetId", access: "tenant", handle: async (c) => ({ status: 200, body: await raw.get(ctxOf(c), c.params.assetId ?? "") }) },
  ];
}

export function flagRoutes(flags: Remote<FlagsApi>): Route[] {
  return [
    { method: "GET", pattern: "/feature-flags", access: "tenant", handle: async (c) => ({ status: 200, body: await flags.list({ tenantId: c.tenantId }) }) },
    { method: "GET", pattern: "/feature-flags/:key", access: "tenant", handle: async (c) => ({ status: 200, body: await flags.get({ tenantId: c.tenantId }, c.params.key ?? "") }) },
    {
      method: "PUT", pattern: "/feature-flags/:key", access: "admin", body: true,
      async handle(c) {
        const r = await flags.put({ tenantId: c.tenantId }, c.params.key ?? "", c.body);
        return { status: r.created ? 201 : 200, body: r.flag };
      },
    },
    {
      method: "DELETE", pattern: "/feature-flags/:key", access: "admin",
      async handle(c) {
        await flags.delete({ tenantId: c.tenantId }, c.params.key ?? "");
        return { status: 204 };
      },
    },
  ];
}

export function loggingRoutes(datasets: Remote<DatasetsApi>, admit: Admit): Route[] {
  return [
    {
      method: "POST", pattern: "/logging/events", access: "tenant", body: true,
      async handle(c) {
        await admit(c.tenantId, "dataset.event");
        return { status: 202, body: await datasets.accept(ctxOf(c), c.body) };
      },
    },
    { method: "GET", pattern: "/logging/events", access: "admin", handle: async (c) => ({ status: 200, body: await datasets.list(ctxOf(c), query(c)) }) },
  ];
}


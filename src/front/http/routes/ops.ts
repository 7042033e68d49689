import type { Route } from "../types.js";

export interface Ops {
  /** `checks` names every adapter with the backend actually in use. */
  readiness(): Promise<{ ready: boolean; checks: Record<string, unknown> }>;
  /** Prometheus text of the whole node (every front and the supervisor). */
  metrics(): Promise<{ contentType: string; text: string }>;
}

export function opsRoutes(ops: Ops): Route[] {
  return [
    { method: "GET", pattern: "/healthz", access: "public", handle: () => ({ status: 200, body: { status: "ok" } }) },
    {
      method: "GET", pattern: "/readyz", access: "public",
      async handle() {
        const r = await ops.readiness();
        return { status: r.ready ? 200 : 503, body: { status: r.ready ? "ready" : "not_ready", checks: r.checks } };
      },
    },
    {
      method: "GET", pattern: "/metrics", access: "public",
      async handle() {
        const m = await ops.metrics();
        return { status: 200, headers: { "content-type": m.contentType }, body: m.text };
      },
    },
  ];
}

import type { Registry as PromRegistry } from "prom-client";
import type { Route } from "../types.js";

export interface ReadinessSource {
  /** `checks` names every adapter with the backend actually in use. */
  readiness(): Promise<{ ready: boolean; checks: Record<string, unknown> }>;
}

export function opsRoutes(metrics: PromRegistry, readiness: ReadinessSource): Route[] {
  return [
    { method: "GET", pattern: "/healthz", access: "public", handle: () => ({ status: 200, body: { status: "ok" } }) },
    {
      method: "GET", pattern: "/readyz", access: "public",
      async handle() {
        const r = await readiness.readiness();
        return { status: r.ready ? 200 : 503, body: { status: r.ready ? "ready" : "not_ready", checks: r.checks } };
      },
    },
    {
      method: "GET", pattern: "/metrics", access: "public",
      async handle() {
        return { status: 200, headers: { "content-type": metrics.contentType }, body: await metrics.metrics() };
      },
    },
  ];
}

import { z } from "zod";
import type { GateAdmin } from "./index.js";
import { validate } from "../body.js";
import type { Route } from "../types.js";
import { sameTenant } from "./tenant-param.js";

const killswitchSchema = z.strictObject({
  on: z.boolean(),
  action: z.enum(["*", "message.post", "canvas.event", "ws.publish", "media.create", "raw.register", "dataset.event"]).default("*"),
});

/** SPEC §4 GateChain admin routes: admin role, and the path/query tenant must be the acting one. */
export function gatechainRoutes(gates: GateAdmin): Route[] {
  return [
    {
      method: "PUT", pattern: "/gatechain/budgets/:tenantId", access: "admin", body: true,
      async handle(ctx) {
        return { status: 200, body: await gates.putBudget(sameTenant(ctx.tenantId, ctx.params.tenantId), ctx.body) };
      },
    },
    {
      method: "PUT", pattern: "/gatechain/kpis/:tenantId", access: "admin", body: true,
      async handle(ctx) {
        return { status: 200, body: await gates.putKpis(sameTenant(ctx.tenantId, ctx.params.tenantId), ctx.body) };
      },
    },
    {
      method: "POST", pattern: "/gatechain/kpis/:tenantId/observations", access: "admin", body: true,
      async handle(ctx) {
        return { status: 200, body: await gates.observe(sameTenant(ctx.tenantId, ctx.params.tenantId), ctx.body) };
      },
    },
    {
      method: "PUT", pattern: "/gatechain/killswitch/:tenantId", access: "admin", body: true,
      async handle(ctx) {
        const tenant = sameTenant(ctx.tenantId, ctx.params.tenantId);
        const body = validate(killswitchSchema, ctx.body);
        await gates.setKillswitch(tenant, body.action, body.on);
        return { status: 200, body: { tenantId: tenant, action: body.action, on: body.on } };
      },
    },
    {
      method: "GET", pattern: "/gatechain/status", access: "admin",
      async handle(ctx) {
        return { status: 200, body: await gates.status(sameTenant(ctx.tenantId, ctx.query.get("tenant_id"))) };
      },
    },
  ];
}

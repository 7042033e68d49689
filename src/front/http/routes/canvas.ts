import type { Config } from "../../../config/index.js";
import { canvasEventSchema, historyQuerySchema } from "../../../resources/schemas.js";
import type { Resources } from "../../../resources/resources.js";
import { validate } from "../body.js";
import type { Route } from "../types.js";
import type { Admit } from "./admit.js";

export function canvasRoutes(resources: Resources, config: Config, admit: Admit): Route[] {
  const eventSchema = canvasEventSchema(config.MAX_EVENT_BYTES);
  return [
    {
      method: "POST", pattern: "/canvas/:canvasId/events", access: "tenant", body: true,
      async handle(ctx) {
        const body = validate(eventSchema, ctx.body);
        await admit(ctx.tenantId, "canvas.event");
        const ref = await resources.ensureCanvas(ctx.tenantId, ctx.params.canvasId ?? "", ctx.principal.sub);
        const { seq } = await resources.publish(ref, { kind: "canvas", senderId: ctx.principal.sub, ...body });
        return { status: 202, body: { canvasId: ref.id, seq } };
      },
    },
    {
      method: "GET", pattern: "/canvas/:canvasId/events", access: "tenant",
      async handle(ctx) {
        // Reading never registers: a canvas nobody in this tenant used is 404.
        const ref = await resources.require({ tenant: ctx.tenantId, kind: "canvas", id: ctx.params.canvasId ?? "" });
        const q = validate(historyQuerySchema, Object.fromEntries(ctx.query));
        return { status: 200, body: await resources.history(ref, q.after, q.limit) };
      },
    },
  ];
}

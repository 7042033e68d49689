import type { Config } from "../../../config/index.js";
import { createThreadSchema, historyQuerySchema, listQuerySchema, messageSchema } from "../../../resources/schemas.js";
import type { Resources } from "../../../resources/resources.js";
import { validate } from "../body.js";
import type { Route } from "../types.js";
import type { Admit } from "./admit.js";

/** The Message arrives serialized from its actor; it is returned as is. */
const JSON_BODY = { "content-type": "application/json; charset=utf-8" };

export function chatRoutes(resources: Resources, config: Config, admit: Admit): Route[] {
  const message = messageSchema(config.MAX_MESSAGE_BYTES);
  return [
    {
      method: "POST", pattern: "/chat/threads", access: "tenant", body: true,
      async handle(ctx) {
        const body = validate(createThreadSchema, ctx.body);
        return { status: 201, body: await resources.createThread(ctx.tenantId, ctx.principal.sub, body) };
      },
    },
    {
      method: "GET", pattern: "/chat/threads", access: "tenant",
      async handle(ctx) {
        const q = validate(listQuerySchema, Object.fromEntries(ctx.query));
        return { status: 200, body: await resources.listThreads(ctx.tenantId, q) };
      },
    },
    {
      method: "GET", pattern: "/chat/threads/:threadId", access: "tenant",
      async handle(ctx) {
        return { status: 200, body: await resources.getThread(ctx.tenantId, ctx.params.threadId ?? "") };
      },
    },
    {
      method: "POST", pattern: "/chat/threads/:threadId/messages", access: "tenant", body: true,
      async handle(ctx) {
        const ref = await resources.require({ tenant: ctx.tenantId, kind: "thread", id: ctx.params.threadId ?? "" });
        const body = validate(message, ctx.body);
        await admit(ctx.tenantId, "message.post");
        const { json, created } = await resources.publish(ref, { kind: "thread", senderId: ctx.principal.sub, ...body });
        return { status: created ? 201 : 200, body: json, headers: JSON_BODY };
      },
    },
    {
      method: "GET", pattern: "/chat/threads/:threadId/messages", access: "tenant",
      async handle(ctx) {
        const ref = await resources.require({ tenant: ctx.tenantId, kind: "thread", id: ctx.params.threadId ?? "" });
        const q = validate(historyQuerySchema, Object.fromEntries(ctx.query));
        return { status: 200, body: await resources.history(ref, q.after, q.limit) };
      },
    },
  ];
}

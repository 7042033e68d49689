import { z } from "zod";

// WebSocket client frames (SPEC §5), validated before anything acts on them.
const ref = z.string().max(128).optional();
const channel = z.string().min(1).max(140);

export const clientFrameSchema = z.discriminatedUnion("op", [
  z.object({
    op: z.literal("subscribe"),
    channel,
    since: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
    epoch: z.string().max(64).optional(),
    ref,
  }),
  z.object({ op: z.literal("unsubscribe"), channel, ref }),
  z.object({ op: z.literal("publish"), channel, data: z.unknown(), ref }),
  z.object({ op: z.literal("ping"), ref }),
]);

export type ClientFrame = z.infer<typeof clientFrameSchema>;

export const errorFrame = (code: string, message: string, ref?: string, channel?: string): string =>
  JSON.stringify({ op: "error", ...(ref !== undefined ? { ref } : {}), ...(channel !== undefined ? { channel } : {}), code, message });

export const frame = (body: Record<string, unknown>): string => JSON.stringify(body);

// Shared by the peer servers: announce the port to the bench (one stdout
// line), stop on SIGTERM, and a frame parser that never throws. Peers are
// deliberately minimal reference servers: a structural check per frame and
// nothing else, so they mark the ceiling a Node server can reach.

export interface InFrame {
  op: string;
  channel: string;
  ref?: unknown;
  data?: unknown;
}

export function parseFrame(text: string): InFrame | undefined {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof m !== "object" || m === null) return undefined;
  const f = m as Record<string, unknown>;
  if (typeof f.op !== "string" || typeof f.channel !== "string" || f.channel.length > 256) return undefined;
  return { op: f.op, channel: f.channel, ref: f.ref, data: f.data };
}

/** One SSE event, encoded once and written to every stream of the channel. */
export const sseFrame = (seq: number, data: string): string => `id: ${seq}\nevent: message\ndata: ${data}\n\n`;

export function announce(port: number): void {
  process.stdout.write(`LISTENING ${port}\n`);
}

export function onStop(stop: () => void): void {
  for (const sig of ["SIGTERM", "SIGINT"] as const) {
    process.once(sig, () => {
      stop();
      // Open sockets must not keep a stopped peer alive.
      setTimeout(() => process.exit(0), 200).unref();
    });
  }
}

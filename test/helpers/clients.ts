import WebSocket from "ws";

export interface Frame {
  op: string;
  [k: string]: unknown;
}

/** Waits until `pred` holds, polling; fails after `ms` with `what` in the message. */
export async function waitUntil(pred: () => boolean, ms = 5000, what = "condition"): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A real `ws` client that records every frame and the close code. */
export class WsClient {
  readonly frames: Frame[] = [];
  closeCode: number | undefined;
  closeReason = "";
  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data, isBinary) => {
      if (!isBinary) this.frames.push(JSON.parse(data.toString()) as Frame);
    });
    ws.on("close", (code, reason) => {
      this.closeCode = code;
      this.closeReason = reason.toString();
    });
  }

  static connect(baseUrl: string, token: string, tenant: string, headers: Record<string, string> = {}): Promise<WsClient> {
    const url = `${baseUrl.replace(/^http/, "ws")}/ws?access_token=${encodeURIComponent(token)}&tenant_id=${encodeURIComponent(tenant)}`;
    const ws = new WebSocket(url, { headers, perMessageDeflate: false });
    const client = new WsClient(ws);
    return new Promise((resolve, reject) => {
      ws.once("open", () => resolve(client));
      ws.once("unexpected-response", (_req, res) => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode })));
      ws.once("error", reject);
    });
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** Waits for the first frame (from index `from`) matching `pred` and returns it. */
  async next(pred: (f: Frame) => boolean, ms = 5000, from = 0): Promise<Frame> {
    let found: Frame | undefined;
    await waitUntil(() => (found = this.frames.slice(from).find(pred)) !== undefined, ms, "a matching frame");
    return found as Frame;
  }

  async subscribe(channel: string, extra: Record<string, unknown> = {}): Promise<Frame> {
    const ref = `s-${Math.random().toString(36).slice(2)}`;
    this.send({ op: "subscribe", channel, ref, ...extra });
    return this.next((f) => f.ref === ref && (f.op === "subscribed" || f.op === "error"));
  }

  async publish(channel: string, data: unknown): Promise<Frame> {
    const ref = `p-${Math.random().toString(36).slice(2)}`;
    this.send({ op: "publish", channel, data, ref });
    return this.next((f) => f.ref === ref && (f.op === "ack" || f.op === "error"));
  }

  events(channel: string): Frame[] {
    return this.frames.filter((f) => f.op === "event" && f.channel === channel);
  }

  seqs(channel: string): number[] {
    return this.events(channel).map((f) => f.seq as number);
  }

  async closed(ms = 5000): Promise<number> {
    await waitUntil(() => this.closeCode !== undefined, ms, "the socket to close");
    return this.closeCode as number;
  }

  close(): void {
    this.ws.close();
  }
}

export interface SseEvent {
  id: string | undefined;
  event: string | undefined;
  data: string;
}

/** A streaming SSE reader over fetch that parses id/event/data blocks. */
export class SseClient {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  ended = false;
  private constructor(readonly response: Response, private readonly abort: AbortController) {}

  static async open(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const abort = new AbortController();
    const response = await fetch(url, { headers: { accept: "text/event-stream", ...headers }, signal: abort.signal });
    const client = new SseClient(response, abort);
    if (response.ok && response.body) void client.pump(response.body);
    return client;
  }

  private async pump(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buf = "";
    try {
      for await (const chunk of body) {
        buf += decoder.decode(chunk, { stream: true });
        let idx: number;
        while ((idx = buf.indexOf("\n\n")) >= 0) {
          const block = buf.slice(0, idx);
          buf = buf.slice(idx + 2);
          const ev: SseEvent = { id: undefined, event: undefined, data: "" };
          let isEvent = false;
          for (const line of block.split("\n")) {
            if (line.startsWith(":")) this.comments.push(line.slice(1).trim());
            else if (line.startsWith("id: ")) ((ev.id = line.slice(4)), (isEvent = true));
            else if (line.startsWith("event: ")) ev.event = line.slice(7);
            else if (line.startsWith("data: ")) ((ev.data += line.slice(6)), (isEvent = true));
          }
          if (isEvent) this.events.push(ev);
        }
      }
    } catch {
      // aborted by close()
    }
    this.ended = true;
  }

  seqs(): number[] {
    return this.events.map((e) => Number(e.id));
  }

  close(): void {
    this.abort.abort();
  }
}

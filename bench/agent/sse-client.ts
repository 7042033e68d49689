// A minimal text/event-stream reader over node:http: enough to count events
// and read their `data:` lines. One connection per stream, no keep-alive
// pooling, so every subscriber is its own socket like a browser tab.
import http from "node:http";

const noPool = new http.Agent({ keepAlive: false, maxSockets: Infinity });

export interface SseHandlers {
  onEvent(data: string, id: string | undefined): void;
  onClose(err?: Error): void;
}

export interface SseStream {
  close(): void;
}

/**
 * Opens a stream; resolves once the server has written its first bytes (the
 * `retry:` line or a first event), which every system here writes only after
 * the subscriber is registered, so nothing published afterwards can be missed.
 */
export function openSse(url: string, h: SseHandlers, timeoutMs: number): Promise<SseStream> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const req = http.get(url, { agent: noPool, headers: { accept: "text/event-stream" } });
    const timer = setTimeout(() => fail(new Error(`sse open timed out after ${timeoutMs} ms`)), timeoutMs);
    const stream: SseStream = { close: () => req.destroy() };
    function fail(err: Error): void {
      clearTimeout(timer);
      req.destroy();
      if (!settled) {
        settled = true;
        reject(err);
      }
    }
    req.on("error", (err) => (settled ? h.onClose(err) : fail(err)));
    req.on("response", (res) => {
      if (res.statusCode !== 200) {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (body = (body + c).slice(0, 300)));
        res.on("end", () => fail(new Error(`sse status ${res.statusCode}: ${body}`)));
        return;
      }
      res.setEncoding("utf8");
      let buf = "";
      let data: string[] = [];
      let id: string | undefined;
      res.on("data", (chunk: string) => {
        if (!settled) {
          settled = true;
          clearTimeout(timer);
          resolve(stream);
        }
        buf += chunk;
        // Scan with an index and cut the buffer once per chunk: a batched
        // server packs hundreds of events into one chunk.
        let start = 0;
        let nl: number;
        while ((nl = buf.indexOf("\n", start)) >= 0) {
          const end = nl > start && buf.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
          const line = buf.slice(start, end);
          start = nl + 1;
          if (line === "") {
            if (data.length > 0) h.onEvent(data.join("\n"), id);
            data = [];
            id = undefined;
          } else if (line.startsWith("data:")) {
            data.push(line.slice(line[5] === " " ? 6 : 5));
          } else if (line.startsWith("id:")) {
            id = line.slice(line[3] === " " ? 4 : 3);
          }
          // `event:`, `retry:` and `:` comments carry nothing the bench counts.
        }
        buf = start === 0 ? buf : buf.slice(start);
      });
      res.on("close", () => settled && h.onClose());
      res.on("error", (err) => settled && h.onClose(err));
    });
  });
}

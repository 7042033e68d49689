// SSE peer: plain node:http. GET /sse/<channel> subscribes, POST
// /publish/<channel> with a JSON body fans it out.
import http from "node:http";
import { announce, onStop, parseBody, Sequencer, sseEventFrame } from "./common.js";

const streams = new Map<string, Set<http.ServerResponse>>();
const seqs = new Sequencer();
const MAX_BODY = 64 * 1024;

const server = http.createServer((req, res) => {
  const url = req.url ?? "/";
  if (req.method === "GET" && url.startsWith("/sse/")) {
    const channel = decodeURIComponent(url.slice(5));
    let set = streams.get(channel);
    if (!set) streams.set(channel, (set = new Set()));
    const mine = set;
    mine.add(res);
    res.on("close", () => mine.delete(res));
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    res.write("retry: 3000\n\n");
    return;
  }
  if (req.method === "POST" && url.startsWith("/publish/")) {
    const channel = decodeURIComponent(url.slice(9));
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) req.destroy();
      else chunks.push(c);
    });
    req.on("end", () => {
      const body = parseBody(Buffer.concat(chunks).toString("utf8"));
      if (body === undefined) {
        res.writeHead(400).end();
        return;
      }
      const seq = seqs.next(channel);
      const frame = sseEventFrame(channel, body, seq);
      for (const s of streams.get(channel) ?? []) s.write(frame);
      res.writeHead(202, { "content-type": "application/json" }).end(`{"seq":${seq}}`);
    });
    return;
  }
  res.writeHead(404).end();
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  const addr = server.address();
  announce(typeof addr === "object" && addr ? addr.port : 0);
});
onStop(() => {
  server.closeAllConnections();
  server.close();
});

// SSE peer: uWebSockets.js HTTP streaming. GET /sse/<channel> subscribes,
// POST /publish/<channel> with a JSON body fans it out.
import uWS from "uWebSockets.js";
import { announce, onStop, parseBody, Sequencer, sseEventFrame } from "./common.js";

const streams = new Map<string, Set<uWS.HttpResponse>>();
const seqs = new Sequencer();
const app = uWS.App();

app.get("/sse/:channel", (res, req) => {
  const channel = decodeURIComponent(req.getParameter(0) ?? "");
  let set = streams.get(channel);
  if (!set) streams.set(channel, (set = new Set()));
  const mine = set;
  res.onAborted(() => mine.delete(res));
  mine.add(res);
  res.writeStatus("200 OK").writeHeader("content-type", "text/event-stream").writeHeader("cache-control", "no-cache");
  res.write("retry: 3000\n\n");
});

app.post("/publish/:channel", (res, req) => {
  // Copy everything from req before the body arrives: req dies with this callback.
  const channel = decodeURIComponent(req.getParameter(0) ?? "");
  let aborted = false;
  const chunks: Buffer[] = [];
  res.onAborted(() => (aborted = true));
  res.onData((ab, isLast) => {
    chunks.push(Buffer.from(ab.slice(0)));
    if (!isLast || aborted) return;
    const body = parseBody(Buffer.concat(chunks).toString("utf8"));
    if (body === undefined) {
      res.cork(() => res.writeStatus("400 Bad Request").end());
      return;
    }
    const seq = seqs.next(channel);
    const frame = sseEventFrame(channel, body, seq);
    for (const s of streams.get(channel) ?? []) s.cork(() => s.write(frame));
    res.cork(() => res.writeStatus("202 Accepted").writeHeader("content-type", "application/json").end(`{"seq":${seq}}`));
  });
});

app.listen("127.0.0.1", 0, (ls) => {
  if (!ls) {
    console.error("uws-sse: listen failed");
    process.exit(1);
  }
  announce(uWS.us_socket_local_port(ls));
  onStop(() => uWS.us_listen_socket_close(ls));
});

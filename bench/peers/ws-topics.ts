// Peer: the `ws` library with a plain topic map.
import { WebSocketServer, type WebSocket } from "ws";
import { announce, onStop, parseFrame, Sequencer, wsEventFrame } from "./common.js";

const topics = new Map<string, Set<WebSocket>>();
const seqs = new Sequencer();
const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false, maxPayload: 64 * 1024 });
wss.on("connection", (ws) => {
  const mine = new Set<string>();
  ws.on("message", (raw: Buffer) => {
    const f = parseFrame(raw.toString("utf8"));
    if (!f) return;
    if (f.op === "subscribe") {
      let set = topics.get(f.channel);
      if (!set) topics.set(f.channel, (set = new Set()));
      set.add(ws);
      mine.add(f.channel);
      ws.send(JSON.stringify({ op: "subscribed", channel: f.channel, ref: f.ref }));
    } else if (f.op === "publish") {
      const set = topics.get(f.channel);
      if (!set) return;
      // Encode once: every subscriber gets the same buffer.
      const frame = Buffer.from(wsEventFrame(f.channel, f.data, seqs.next(f.channel)));
      for (const s of set) s.send(frame, { binary: false });
    }
  });
  ws.on("close", () => {
    for (const ch of mine) {
      const set = topics.get(ch);
      set?.delete(ws);
      if (set?.size === 0) topics.delete(ch);
    }
  });
});
wss.on("listening", () => {
  const addr = wss.address();
  announce(typeof addr === "object" && addr ? addr.port : 0);
});
onStop(() => wss.close());

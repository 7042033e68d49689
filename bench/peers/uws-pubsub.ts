// Peer: uWebSockets.js with its native pub/sub, the ceiling for a Node server.
import uWS from "uWebSockets.js";
import { announce, onStop, parseFrame, Sequencer, wsEventFrame } from "./common.js";

const decoder = new TextDecoder();
const seqs = new Sequencer();
const app = uWS.App();
app.ws("/*", {
  compression: uWS.DISABLED,
  maxPayloadLength: 64 * 1024,
  // Generous so a slow subscriber is buffered rather than silently skipped:
  // the bench counts loss, and a 64 KB default would drop at high fan-out.
  maxBackpressure: 64 * 1024 * 1024,
  idleTimeout: 0,
  sendPingsAutomatically: false,
  message: (ws, msg) => {
    const f = parseFrame(decoder.decode(msg));
    if (!f) return;
    if (f.op === "subscribe") {
      ws.subscribe(f.channel);
      ws.send(JSON.stringify({ op: "subscribed", channel: f.channel, ref: f.ref }));
    } else if (f.op === "publish") {
      app.publish(f.channel, wsEventFrame(f.channel, f.data, seqs.next(f.channel)), false);
    }
  },
});
app.listen("127.0.0.1", 0, (ls) => {
  if (!ls) {
    console.error("uws-pubsub: listen failed");
    process.exit(1);
  }
  announce(uWS.us_socket_local_port(ls));
  onStop(() => uWS.us_listen_socket_close(ls));
});

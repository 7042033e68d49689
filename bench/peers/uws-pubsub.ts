// Peer: uWebSockets.js with its native pub/sub, the ceiling for a Node server.
import { Sequencer, wsEventFrame } from "./common.js";
import { startUwsPeer } from "./uws-app.js";

const seqs = new Sequencer();
const app = startUwsPeer({
  name: "uws-pubsub",
  publish(_ws, f) {
    app.publish(f.channel, wsEventFrame(f.channel, f.data, seqs.next(f.channel)), false);
  },
});

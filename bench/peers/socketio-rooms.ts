// Peer: Socket.IO with rooms (one room per channel).
import http from "node:http";
import { Server } from "socket.io";
import { announce, eventData, onStop, Sequencer } from "./common.js";

const server = http.createServer();
const seqs = new Sequencer();
const io = new Server(server, { serveClient: false, perMessageDeflate: false, maxHttpBufferSize: 64 * 1024 });
io.on("connection", (socket) => {
  socket.on("subscribe", (channel: unknown, ack: unknown) => {
    if (typeof channel !== "string") return;
    void socket.join(channel);
    if (typeof ack === "function") ack(true);
  });
  socket.on("publish", (m: unknown) => {
    if (typeof m !== "object" || m === null) return;
    const { channel, data } = m as { channel?: unknown; data?: unknown };
    if (typeof channel !== "string") return;
    const seq = seqs.next(channel);
    io.to(channel).emit("event", { channel, seq, data: eventData(channel, seq, data), ts: Date.now() });
  });
});
server.listen(0, "127.0.0.1", () => {
  const addr = server.address();
  announce(typeof addr === "object" && addr ? addr.port : 0);
});
onStop(() => {
  void io.close();
});

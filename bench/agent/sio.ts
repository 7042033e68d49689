// socket.io-client is loaded only by agents that talk to the Socket.IO peer:
// it is the heaviest import an agent has, and agent start-up is on the clock.
import type { ManagerOptions, Socket, SocketOptions } from "socket.io-client";

type Io = (uri: string, opts?: Partial<ManagerOptions & SocketOptions>) => Socket;
let io: Promise<Io> | undefined;

export async function connectIo(url: string, opts: Partial<ManagerOptions & SocketOptions>): Promise<Socket> {
  io ??= import("socket.io-client").then((m) => m.io);
  return (await io)(url, opts);
}

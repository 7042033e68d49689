// The uWS peers' shared app: one WS route speaking the bench's frames
// (subscribe → subscribed, publish → the peer's own handler), listening on a
// free loopback port announced to the bench, stopped on SIGTERM.
import uWS from "uWebSockets.js";
import { announce, onStop, parseFrame, type InFrame } from "./common.js";

export type PublishFrame = InFrame & { readonly op: "publish" };

export interface UwsPeer {
  readonly name: string;
  /** A publish frame from `ws`; the peer fans out through the app startUwsPeer returned. */
  publish(ws: uWS.WebSocket<unknown>, f: PublishFrame): void;
  close?(ws: uWS.WebSocket<unknown>): void;
  stop?(): void;
}

export function startUwsPeer(peer: UwsPeer): uWS.TemplatedApp {
  const decoder = new TextDecoder();
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
        peer.publish(ws, f as PublishFrame);
      }
    },
    close: (ws) => peer.close?.(ws),
  });
  app.listen("127.0.0.1", 0, (ls) => {
    if (!ls) {
      console.error(`${peer.name}: listen failed`);
      process.exit(1);
    }
    announce(uWS.us_socket_local_port(ls));
    onStop(() => {
      uWS.us_listen_socket_close(ls);
      peer.stop?.();
    });
  });
  return app;
}

// The peer targets: minimal reference servers in bench/peers, each started as
// its own pinned process and speaking the bench's common message shape: the
// publish bodies and event objects of switchyard's SPEC (§5, §7).
import { fileURLToPath } from "node:url";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PubSpec, SubSpec } from "../lib/protocol.js";
import { stopChild, type CorePlan } from "../lib/system.js";
import { spawnServer, type Capability, type ChannelKind, type RunningTarget, type ServerSetup, type Target } from "./target.js";

type PeerProto = "json-ws" | "socketio" | "sse";

/**
 * `durable`: the peer acknowledges a WS publish once it is on disk (uws-durable). It is not
 * given the `durable` capability, which also means "scrape its /metrics" (switchyard's server
 * side lines) and "serves the HTTP leg of publish"; the peer does neither.
 */
function peerTarget(name: string, label: string, script: string, proto: PeerProto, opts: { durable?: boolean; only?: string[] } = {}): Target {
  const caps: ReadonlySet<Capability> = new Set<Capability>([proto === "sse" ? "sse" : "ws"]);
  const durable = opts.durable ?? false;
  return {
    name,
    label,
    caps,
    ...(opts.only ? { only: opts.only } : {}),
    unavailable: () => null,
    async start(plan: CorePlan, setup: ServerSetup = {}): Promise<RunningTarget> {
      // A durable peer's log lives where switchyard's does (the OS temp dir: the same disk and
      // fsync), and goes with the process however it ends, as switchyard's data dir does.
      const dataDir = durable ? mkdtempSync(join(tmpdir(), `${name}-bench-`)) : undefined;
      const s = spawnServer([fileURLToPath(new URL(`../peers/${script}`, import.meta.url))], plan, dataDir
        ? { env: { ...process.env, DATA_DIR: dataDir }, nodeArgs: setup.nodeArgs, onGone: () => rmSync(dataDir, { recursive: true, force: true }) }
        : { nodeArgs: setup.nodeArgs });
      let port: number;
      try {
        port = Number((await s.waitLine(/^LISTENING (\d+)$/, 15_000))[1]);
      } catch (err) {
        await stopChild(s.child, 1_000);
        throw err;
      }
      const http = `http://127.0.0.1:${port}`;
      const run = randomBytes(4).toString("hex");
      let made = 0; // names are never reused: agents keep a publish sequence per channel name
      const wrongVia = (via: string): Error => new Error(`${name} does not serve ${via}`);
      return {
        pid: s.child.pid ?? -1,
        port,
        sub(via): SubSpec {
          if (via === "sse" && proto === "sse") return { proto: "sse", url: `${http}/sse/{channel}` };
          if (via === "ws" && proto === "json-ws") return { proto, url: `ws://127.0.0.1:${port}/ws` };
          if (via === "ws" && proto === "socketio") return { proto, url: http };
          throw wrongVia(via);
        },
        pub(via, kind): PubSpec {
          // Peers answer publishes without a durable append (acks only where HTTP has a response
          // anyway), except the durable one, which acks every WS publish once it is on disk.
          // They take the same publish bodies as switchyard and deliver the same event objects.
          if (via === "http" && proto === "sse") return { via: "http", url: `${http}/publish/{channel}`, data: kind, headers: {}, acks: true };
          if (via === "ws" && proto === "json-ws") return { via: proto, url: `ws://127.0.0.1:${port}/ws`, data: kind, headers: {}, acks: durable };
          if (via === "ws" && proto === "socketio") return { via: proto, url: http, data: kind, headers: {}, acks: false };
          throw wrongVia(via);
        },
        // Ids shaped like switchyard's (a thread's is th_ and 16 random bytes), so frames are as long.
        channels: (kind: ChannelKind, n: number) =>
          Promise.resolve(Array.from({ length: n }, () => (kind === "thread" ? `thread:th_${randomBytes(16).toString("base64url")}` : `canvas:bench-${run}-${made++}`))),
        stop: () => stopChild(s.child, 2_000),
      };
    },
  };
}

export const uwsPeer = peerTarget("uws", "uWS native pub/sub", "uws-pubsub.js", "json-ws");
export const uwsDurablePeer = peerTarget("uws-durable", "uWS + durable append", "uws-durable.js", "json-ws", { durable: true, only: ["rooms"] });
export const wsPeer = peerTarget("ws", "ws + topic map", "ws-topics.js", "json-ws");
export const socketioPeer = peerTarget("socketio", "Socket.IO rooms", "socketio-rooms.js", "socketio");
export const uwsSsePeer = peerTarget("uws-sse", "uWS SSE streaming", "uws-sse.js", "sse");
export const httpSsePeer = peerTarget("http-sse", "node:http SSE", "http-sse.js", "sse");

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Channel } from "../../src/front/realtime/channel.js";
import type { StoredEvent } from "../../src/log/event-log.js";
import { resourceKey, type ResourceRef } from "../../src/registry/ids.js";

const ref: ResourceRef = { tenant: "t1", kind: "thread", id: "th_1" };
const event = (seq: number): StoredEvent => ({ seq, dedupeKey: null, bodyHash: "h", payload: { seq, text: `m${seq}` }, ts: 1000 + seq });

describe("Channel frames (SPEC §5)", () => {
  it("encodes the WS event frame of whichever event is asked for, newest or older", () => {
    const ch = new Channel(ref, resourceKey(ref));
    for (const seq of [1, 2, 2, 1, 3]) {
      assert.deepEqual(JSON.parse(ch.wsFrame(event(seq))), { op: "event", channel: "thread:th_1", seq, data: { seq, text: `m${seq}` }, ts: 1000 + seq });
    }
  });

  it("reuses the newest SSE frame for every stream and re-encodes an older one", () => {
    const ch = new Channel(ref, resourceKey(ref));
    const first = ch.sseFrame(event(5));
    assert.equal(ch.sseFrame(event(5)), first, "one Buffer for every stream of the channel");
    assert.equal(first.toString(), `id: 5\nevent: message\ndata: {"seq":5,"text":"m5"}\n\n`);
    ch.sseFrame(event(6));
    assert.equal(ch.sseFrame(event(5)).toString(), first.toString());
  });
});

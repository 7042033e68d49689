import { Counter, Histogram, type Registry } from "prom-client";

/** A front's cluster metrics, registered on that front's registry (aggregated into /metrics). */
export class ClusterMetrics {
  readonly forwards: Counter<"result">;
  readonly forwardSeconds: Histogram;
  readonly busEvents: Counter;
  readonly busPublished: Counter;
  readonly resyncs: Counter<"reason">;
  readonly ownershipMoves: Counter;

  constructor(registry: Registry) {
    const registers = [registry];
    this.forwards = new Counter({
      name: "switchyard_cluster_forwards_total",
      help: "Publishes forwarded to the owning node, by result (ok, error, moved, no_responders, timeout)",
      labelNames: ["result"],
      registers,
    });
    this.forwardSeconds = new Histogram({
      name: "switchyard_cluster_forward_seconds",
      help: "Round trip of one forwarded publish to the owning node",
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.busEvents = new Counter({ name: "switchyard_bus_events_received_total", help: "Events received from other nodes over the bus", registers });
    this.busPublished = new Counter({
      name: "switchyard_bus_events_published_total",
      help: "Events this node appended through this front (each is published on the bus by the actor worker that appended it)",
      registers,
    });
    this.resyncs = new Counter({
      name: "switchyard_cluster_resyncs_total",
      help: "Re-syncs of every watched channel from the log, by cause (members, reconnect, worker)",
      labelNames: ["reason"],
      registers,
    });
    this.ownershipMoves = new Counter({
      name: "switchyard_cluster_ownership_moves_total",
      help: "Watched resources whose owning node changed with a membership change",
      registers,
    });
  }
}

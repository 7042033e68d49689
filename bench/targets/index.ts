// Every system the bench knows, switchyard first so its column leads the table.
import { httpSsePeer, socketioPeer, uwsDurablePeer, uwsPeer, uwsSsePeer, wsPeer } from "./peers.js";
import { switchyardTarget } from "./switchyard.js";
import { switchyardClusterTarget } from "./switchyard-cluster.js";
import type { Target } from "./target.js";

export const TARGETS: readonly Target[] = [switchyardTarget, switchyardClusterTarget, uwsPeer, uwsDurablePeer, wsPeer, socketioPeer, uwsSsePeer, httpSsePeer];

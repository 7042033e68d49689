// The scenarios in the order `all` runs them.
import { broadcast } from "./broadcast.js";
import { cluster } from "./cluster.js";
import { idle } from "./idle.js";
import { noisyNeighbour } from "./noisy.js";
import { publish } from "./publish.js";
import { rooms } from "./rooms.js";
import type { Scenario } from "./scenario.js";
import { sse } from "./sse.js";

export const SCENARIOS: readonly Scenario[] = [broadcast, rooms, idle, sse, publish, noisyNeighbour, cluster];

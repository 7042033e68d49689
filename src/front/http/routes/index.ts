import type { Config } from "../../../config/index.js";
import type { GateChainService } from "../../../gatechain/index.js";
import type { Resources } from "../../../resources/resources.js";
import type { Remote } from "../../../rpc/rpc.js";
import { Router } from "../router.js";
import type { Admit } from "./admit.js";
import { canvasRoutes } from "./canvas.js";
import { chatRoutes } from "./chat.js";
import { gatechainRoutes } from "./gatechain.js";
import { opsRoutes, type Ops } from "./ops.js";
import { flagRoutes, loggingRoutes, mediaRoutes, rawRoutes, type DatasetsApi, type FlagsApi, type MediaApi, type RawApi } from "./adapters.js";

export type GateAdmin = Remote<Pick<GateChainService, "putBudget" | "putKpis" | "observe" | "setKillswitch" | "status">>;

export interface RouteDeps {
  readonly config: Config;
  readonly resources: Resources;
  readonly admit: Admit;
  readonly gates: GateAdmin;
  readonly ops: Ops;
  readonly media: Remote<MediaApi>;
  readonly raw: Remote<RawApi>;
  readonly flags: Remote<FlagsApi>;
  readonly datasets: Remote<DatasetsApi>;
}

/** Every mounted HTTP route of a front, in one place. */
export function buildRouter(d: RouteDeps): Router {
  const router = new Router();
  router.addAll(opsRoutes(d.ops));
  router.addAll(chatRoutes(d.resources, d.config, d.admit));
  router.addAll(canvasRoutes(d.resources, d.config, d.admit));
  router.addAll(gatechainRoutes(d.gates));
  router.addAll(mediaRoutes(d.media, d.admit));
  router.addAll(rawRoutes(d.raw, d.admit));
  router.addAll(flagRoutes(d.flags));
  router.addAll(loggingRoutes(d.datasets, d.admit));
  return router;
}

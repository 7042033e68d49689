import { createRequire } from "node:module";
import uWS from "uWebSockets.js";

// The one import of uWebSockets.js. The package silently falls back to a slow
// JS implementation when its native binary does not load (e.g. an unsupported
// Node ABI); we detect that by looking for the native addon in the module
// cache, so /readyz and the start-up log can say which one is serving.
const require = createRequire(import.meta.url);
export const uwsNative: boolean = Object.keys(require.cache).some((k) => /uws_[a-z0-9_]+\.node$/.test(k));
export const uwsDescription = uwsNative ? `native (Node ABI ${process.versions.modules})` : "js-fallback (slow: native binary did not load)";

export { uWS };
export type { HttpRequest as UwsRequest, HttpResponse as UwsResponse, TemplatedApp, WebSocket as UwsWebSocket, us_listen_socket } from "uWebSockets.js";

import type { Principal } from "../../auth/principal.js";

export type Method = "GET" | "POST" | "PUT" | "DELETE" | "PATCH" | "HEAD" | "OPTIONS";

/** A request as handlers see it: copied out of uWS before any await. */
export interface HttpRequest {
  readonly method: Method | string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: Readonly<Record<string, string>>;
  readonly requestId: string;
}

/** What a handler may rely on once the pipeline has run. */
export interface RouteContext extends HttpRequest {
  readonly params: Readonly<Record<string, string>>;
  readonly principal: Principal;
  /** Set when the route is tenant-scoped. */
  readonly tenantId: string;
  readonly body: unknown;
}

export interface HttpReply {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** `public` runs no auth (health, metrics); `user` needs a token; `tenant` also an acting tenant; `admin` also the admin role. */
export type Access = "public" | "user" | "tenant" | "admin";

export interface Route {
  readonly method: Method;
  /** e.g. `/chat/threads/:threadId/messages` */
  readonly pattern: string;
  readonly access: Access;
  readonly body?: boolean;
  handle(ctx: RouteContext): Promise<HttpReply> | HttpReply;
}

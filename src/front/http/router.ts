import type { Route } from "./types.js";

interface Compiled {
  readonly route: Route;
  readonly parts: readonly string[];
}

export type Match =
  | { readonly kind: "found"; readonly route: Route; readonly params: Record<string, string> }
  | { readonly kind: "method_not_mounted"; readonly pattern: string }
  | { readonly kind: "none" };

/**
 * Segment matcher. A path that matches a mounted pattern under another method
 * reports `method_not_mounted`, so the pipeline can still run auth first and
 * answer 404 only to an authenticated caller.
 */
export class Router {
  private readonly compiled: Compiled[] = [];

  add(route: Route): void {
    this.compiled.push({ route, parts: route.pattern.split("/").filter(Boolean) });
  }

  addAll(routes: readonly Route[]): void {
    for (const r of routes) this.add(r);
  }

  match(method: string, path: string): Match {
    const segs = path.split("/").filter(Boolean);
    let other: string | undefined;
    for (const c of this.compiled) {
      const params = matchParts(c.parts, segs);
      if (!params) continue;
      if (c.route.method === method || (method === "HEAD" && c.route.method === "GET")) return { kind: "found", route: c.route, params };
      other ??= c.route.pattern;
    }
    return other ? { kind: "method_not_mounted", pattern: other } : { kind: "none" };
  }
}

function matchParts(parts: readonly string[], segs: readonly string[]): Record<string, string> | undefined {
  if (parts.length !== segs.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i] as string;
    const s = segs[i] as string;
    if (p.startsWith(":")) {
      let v: string;
      try {
        v = decodeURIComponent(s);
      } catch {
        return undefined;
      }
      params[p.slice(1)] = v;
    } else if (p !== s) return undefined;
  }
  return params;
}

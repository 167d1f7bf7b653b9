// Route matching: host (exact or `*.suffix`) then the longest path prefix on a
// segment boundary. Routes are sorted once when the config loads.
import type { RouteConfig } from '../config/load.ts';
import type { Dispatch } from '../middleware/types.ts';

export interface CompiledRoute {
  readonly config: RouteConfig;
  readonly dispatch: Dispatch;
}

export class Router {
  readonly #routes: CompiledRoute[];

  constructor(routes: CompiledRoute[]) {
    // Host-specific before host-less, then longest prefix first, then file order.
    this.#routes = [...routes].sort(
      (a, b) =>
        Number(b.config.host !== undefined) - Number(a.config.host !== undefined) ||
        b.config.path.length - a.config.path.length ||
        a.config.index - b.config.index,
    );
  }

  /** `host` lower-case, possibly with a port; `path` without the query. */
  match(host: string, target: string): CompiledRoute | null {
    const hostname = stripPort(host);
    for (const route of this.#routes) {
      const h = route.config.host;
      if (h !== undefined && !(h.startsWith('*.') ? hostname.endsWith(h.slice(1)) && hostname.length > h.length - 1 : hostname === h)) continue;
      if (prefixMatches(route.config.path, target)) return route;
    }
    return null;
  }
}

function prefixMatches(prefix: string, target: string): boolean {
  if (prefix === '/') return true;
  if (!target.startsWith(prefix)) return false;
  if (target.length === prefix.length || prefix.endsWith('/')) return true;
  const next = target.charCodeAt(prefix.length);
  return next === 47 /* / */ || next === 63 /* ? */;
}

function stripPort(host: string): string {
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end === -1 ? host : host.slice(0, end + 1);
  }
  const colon = host.lastIndexOf(':');
  return colon === -1 ? host : host.slice(0, colon);
}

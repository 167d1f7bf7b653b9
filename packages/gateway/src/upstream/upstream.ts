// An upstream: a named group of servers, each with its connection pool and
// counters, and the method that picks one per request. The balancing methods
// of the brief beyond these three grow here, one module each.
import type { ServerConfig, UpstreamConfig } from '../config/load.ts';
import { noServer, type RampartError } from '../errors.ts';
import type { Dispatch } from '../middleware/types.ts';
import { ConnectionPool } from './connection-pool.ts';
import { Exchange, type ExchangeEvents } from './exchange.ts';

export type ServerState = 'starting' | 'ready' | 'draining' | 'ejected' | 'unhealthy';

export class UpstreamServer {
  readonly config: ServerConfig;
  readonly pool: ConnectionPool;
  state: ServerState = 'ready';
  inflight = 0;
  served = 0;
  failed = 0;
  /** Set by the Upstream that owns this server now (a reload may hand it on). */
  events: ExchangeEvents = { onFinish() {} };

  constructor(config: ServerConfig, upstream: UpstreamConfig) {
    this.config = config;
    this.pool = new ConnectionPool(config, upstream);
  }
}

export interface UpstreamObserver {
  onExchangeFinish(upstream: Upstream, server: UpstreamServer, exchange: Exchange, error: RampartError | null): void;
}

export class Upstream {
  readonly name: string;
  readonly config: UpstreamConfig;
  readonly servers: UpstreamServer[];
  readonly dispatch: Dispatch;
  #next = 0;

  constructor(config: UpstreamConfig, observer: UpstreamObserver, previous?: Upstream) {
    this.name = config.name;
    this.config = config;
    // A reload keeps the pools (and their warm connections) of servers that stay.
    this.servers = config.servers.map((s) => {
      const kept = previous?.servers.find((p) => p.config.url === s.url);
      return kept && sameTimeouts(previous!.config, config) ? kept : new UpstreamServer(s, config);
    });
    // One events object per server, not one closure per request.
    for (const server of this.servers) {
      server.events = {
        onFinish: (exchange, error) => {
          server.inflight--;
          if (error) server.failed++;
          else server.served++;
          observer.onExchangeFinish(this, server, exchange, error);
        },
      };
    }
    const timeouts = { headersMs: config.headersTimeoutMs, idleMs: config.idleTimeoutMs };
    const pick = this.#picker();
    this.dispatch = (request, handler) => {
      const server = pick();
      if (server === null) {
        const err = noServer(this.name);
        const controller = { pause() {}, resume() {}, abort() {}, aborted: false };
        handler.onRequestStart(controller);
        handler.onResponseError(controller, err);
        return;
      }
      request.server = server.config.url;
      server.inflight++;
      new Exchange(request, handler, server.pool, timeouts, server.events).start();
    };
  }

  #picker(): () => UpstreamServer | null {
    const servers = this.servers;
    const available = (s: UpstreamServer) => s.state === 'ready';
    switch (this.config.balance) {
      case 'round-robin':
        return () => {
          for (let n = 0; n < servers.length; n++) {
            const s = servers[this.#next++ % servers.length]!;
            if (available(s)) return s;
          }
          return null;
        };
      case 'random':
        return () => {
          const ready = servers.filter(available);
          return ready[Math.floor(Math.random() * ready.length)] ?? null;
        };
      case 'least-connections':
        return () => {
          let best: UpstreamServer | null = null;
          const offset = this.#next++;
          for (let n = 0; n < servers.length; n++) {
            const s = servers[(offset + n) % servers.length]!;
            if (available(s) && (best === null || s.inflight < best.inflight)) best = s;
          }
          return best;
        };
      default: {
        const exhaustive: never = this.config.balance;
        throw new Error(`unknown balance method ${String(exhaustive)}`);
      }
    }
  }

  /** Servers no longer in the config: their idle connections close. */
  retire(next: Upstream | undefined): void {
    for (const s of this.servers) if (!next?.servers.includes(s)) s.pool.close();
  }
}

function sameTimeouts(a: UpstreamConfig, b: UpstreamConfig): boolean {
  return a.connectTimeoutMs === b.connectTimeoutMs && a.keepAlive.maxIdle === b.keepAlive.maxIdle && a.keepAlive.idleTimeoutMs === b.keepAlive.idleTimeoutMs;
}

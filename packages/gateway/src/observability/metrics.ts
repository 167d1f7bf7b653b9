// Prometheus metrics. Hot-path updates go through label-bound children cached
// per (route, status class) so a request costs a few property writes, not a
// label lookup per metric.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { RESULTS, type RouteCounters } from '../cache/counters.ts';
import type { CacheStoreStats } from '../cache/store.ts';

/** What the edge cache shows at scrape time (cache/edge-cache.ts). */
export interface CacheMetricsSource {
  readonly counters: { entries(): Iterable<[string, RouteCounters]> };
  store(): { stats(): CacheStoreStats } | null;
}

export interface LiveValues {
  inflight(): number;
  connections(): number;
  /** The edge cache, read at scrape time only. */
  readonly cache?: () => CacheMetricsSource;
}

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'route' | 'code'>;
  readonly duration: Histogram<'route'>;
  readonly upstreamErrors: Counter<'upstream' | 'kind'>;
  readonly inflight: Gauge;
  readonly connections: Gauge;
  readonly rejected: Counter<'reason'>;
  readonly configReloads: Counter<'result'>;
  readonly #requestChildren = new Map<string, { inc(): void }>();
  readonly #durationChildren = new Map<string, { observe(v: number): void }>();

  /** Gauges read at scrape time: no per-request update at all. */
  constructor(live: LiveValues = { inflight: () => 0, connections: () => 0 }) {
    collectDefaultMetrics({ register: this.registry, prefix: 'rampart_' });
    const registers = [this.registry];
    this.requests = new Counter({ name: 'rampart_requests_total', help: 'Requests answered, by route and status code.', labelNames: ['route', 'code'], registers });
    this.duration = new Histogram({
      name: 'rampart_request_duration_seconds',
      help: 'Time from the request head to the last response byte, by route.',
      labelNames: ['route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.upstreamErrors = new Counter({ name: 'rampart_upstream_errors_total', help: 'Failed upstream exchanges, by upstream and kind (error code).', labelNames: ['upstream', 'kind'], registers });
    this.inflight = new Gauge({
      name: 'rampart_requests_in_flight',
      help: 'Requests being served now.',
      registers,
      collect() {
        this.set(live.inflight());
      },
    });
    this.connections = new Gauge({
      name: 'rampart_client_connections',
      help: 'Client connections open now.',
      registers,
      collect() {
        this.set(live.connections());
      },
    });
    this.rejected = new Counter({ name: 'rampart_requests_rejected_total', help: 'Requests refused before routing, by reason.', labelNames: ['reason'], registers });
    this.configReloads = new Counter({ name: 'rampart_config_reloads_total', help: 'Configuration reloads, by result.', labelNames: ['result'], registers });
    // Both series exist from the start, so `increase()` and alerts see the first refusal.
    for (const result of ['applied', 'refused']) this.configReloads.labels(result).inc(0);
    const cache = live.cache;
    if (cache !== undefined) registerCacheMetrics(registers, () => cache());
  }

  observeRequest(route: string, status: number, seconds: number): void {
    const key = `${route}\0${status}`;
    let counter = this.#requestChildren.get(key);
    if (!counter) {
      counter = this.requests.labels(route, String(status));
      this.#requestChildren.set(key, counter);
    }
    counter.inc();
    let hist = this.#durationChildren.get(route);
    if (!hist) {
      hist = this.duration.labels(route);
      this.#durationChildren.set(route, hist);
    }
    hist.observe(seconds);
  }
}

/**
 * The edge cache's counters are plain numbers bumped on the request path;
 * these metrics copy them at scrape time (reset, then set), so a hit costs no
 * prom-client call.
 */
function registerCacheMetrics(registers: Registry[], source: () => CacheMetricsSource): void {
  const perRoute = (name: string, help: string, field: keyof RouteCounters) =>
    new Counter({
      name,
      help,
      labelNames: ['route'],
      registers,
      collect() {
        this.reset();
        for (const [route, c] of source().counters.entries()) this.labels(route).inc(c[field]);
      },
    });
  new Counter({
    name: 'rampart_cache_requests_total',
    help: 'Requests of cached routes, by route and result: hit, stale (served stale on purpose), revalidated (upstream 304), miss, bypass, pass (method not cached).',
    labelNames: ['route', 'result'],
    registers,
    collect() {
      this.reset();
      for (const [route, c] of source().counters.entries()) for (const result of RESULTS) this.labels(route, result).inc(c[result]);
    },
  });
  perRoute('rampart_cache_collapsed_total', 'Requests that waited for another request\'s upstream response instead of sending their own.', 'collapsed');
  perRoute('rampart_cache_stored_total', 'Responses stored.', 'stored');
  perRoute('rampart_cache_invalidations_total', 'Stored resources removed because an unsafe method changed them (RFC 9111 §4.4).', 'invalidations');
  const stat = (name: string, help: string, read: (s: CacheStoreStats) => number | null) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        const value = source().store()?.stats();
        const v = value === undefined ? null : read(value);
        if (v === null) this.reset();
        else this.set(v);
      },
    });
  stat('rampart_cache_store_bytes', 'Bytes of stored responses, headers and bodies (memory store).', (s) => s.bytes);
  stat('rampart_cache_store_entries', 'Stored responses (variants).', (s) => s.entries);
  stat('rampart_cache_store_max_bytes', 'The bound on rampart_cache_store_bytes (cache.maxBytes).', (s) => s.maxBytes);
  new Counter({
    name: 'rampart_cache_evictions_total',
    help: 'Stored responses evicted to stay under cache.maxBytes.',
    registers,
    collect() {
      this.reset();
      const stats = source().store()?.stats();
      if (stats !== undefined) this.inc(stats.evictions);
    },
  });
}

// Prometheus metrics. Hot-path updates go through label-bound children cached
// per (route, status class) so a request costs a few property writes, not a
// label lookup per metric.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

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
  constructor(live: { inflight(): number; connections(): number } = { inflight: () => 0, connections: () => 0 }) {
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

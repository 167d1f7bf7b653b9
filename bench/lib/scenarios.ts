// A scenario is data, not a branch in the orchestrator: adding one (cache hits,
// balancer strategies) means adding an entry here and, if it needs a
// differently configured peer, a setup that the tools understand.
import type { Setup, ToolName } from './tools/index.ts';

export interface Scenario {
  name: string;
  /** File the backend serves; the request path is `/${file}`. */
  file: string;
  bytes: number;
  connections: number[];
  /** Connection counts kept by --quick. */
  quickConnections: number[];
  /** Tools measured in this scenario; undefined means the peers (not the rampart variants of other scenarios). */
  tools?: readonly ToolName[];
  /** How the tools are configured; undefined means `proxy`. */
  setup?: Setup;
}

export const scenarios: readonly Scenario[] = [
  { name: 'proxy-1k', file: '1k.bin', bytes: 1024, connections: [1, 50, 200], quickConnections: [1, 50, 200] },
  { name: 'proxy-100k', file: '100k.bin', bytes: 100 * 1024, connections: [1, 50, 200], quickConnections: [50] },
  // What a balancing method costs: one server vs three behind each method.
  {
    name: 'balance-1k',
    file: '1k.bin',
    bytes: 1024,
    connections: [50],
    // Left out of --quick, which must stay under two minutes.
    quickConnections: [],
    tools: ['nginx', 'rampart', 'rampart-rr3', 'rampart-p2c3', 'rampart-hash3'],
  },
  // Edge-cache hits: the backend marks everything under
  // /cache/ `Cache-Control: public, max-age=3600` (with nginx's ETag), each
  // cache is primed before it is measured, and a run in which requests reach
  // the backend fails instead of being reported.
  {
    name: 'cache-hit-1k',
    file: 'cache/1k.bin',
    bytes: 1024,
    connections: [50, 200],
    quickConnections: [50],
    tools: ['direct', 'rampart', 'nginx', 'varnish'],
    setup: 'cache',
  },
];

/**
 * Measurements that are not a wrk matrix, each with code of its own:
 * `coalescing` (200 concurrent misses of one key, bench/lib/coalescing.ts) and
 * `flights-front` (the flights app's front page behind rampart with and
 * without the edge cache, bench/lib/flights-front.ts).
 */
export const EXTRA_SCENARIOS = ['coalescing', 'flights-front'] as const;

/** Tools that are measured in every scenario that does not list its own. */
const EVERYWHERE: readonly ToolName[] = ['direct', 'rampart', 'nginx', 'haproxy', 'caddy', 'node-http-proxy', 'fastify-http-proxy', 'undici-proxy'];

export function appliesTo(scenario: Scenario, tool: ToolName): boolean {
  return (scenario.tools ?? EVERYWHERE).includes(tool);
}

export function setupOf(scenario: Scenario): Setup {
  return scenario.setup ?? 'proxy';
}

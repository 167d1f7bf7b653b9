// A scenario is data, not a branch in the orchestrator: adding one (cache hits,
// balancer strategies) means adding an entry here and, if it needs a
// differently configured peer, a setup that the tools understand.
import type { ToolName } from './tools/index.ts';

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
];

/** Tools that are measured in every scenario that does not list its own. */
const EVERYWHERE: readonly ToolName[] = ['direct', 'rampart', 'nginx', 'haproxy', 'caddy', 'node-http-proxy', 'fastify-http-proxy', 'undici-proxy'];

export function appliesTo(scenario: Scenario, tool: ToolName): boolean {
  return (scenario.tools ?? EVERYWHERE).includes(tool);
}

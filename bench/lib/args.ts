import { parseArgs } from 'node:util';
import { EXTRA_SCENARIOS, scenarios, type Scenario } from './scenarios.ts';
import { isToolName, toolNames, type ToolName } from './tools/index.ts';

export interface Settings {
  quick: boolean;
  tools: ToolName[];
  /** The wrk scenarios: every tool × connection count, interleaved repetitions. */
  scenarios: Scenario[];
  /** The coalescing round (bench/lib/coalescing.ts). */
  coalescing: boolean;
  /** The flights front page with and without the edge cache (bench/lib/flights-front.ts). */
  flightsFront: boolean;
  /** Seconds per wrk run of flights-front: --duration if given, else 10. */
  flightsSeconds: number;
  /** Connection counts replacing each scenario's own list, if given. */
  connections: number[] | undefined;
  seconds: number;
  warmupSeconds: number;
  repetitions: number;
}

export const usage = `Usage: npm run bench -- [options]

  --quick              3 short repetitions: 1 s runs, 1 s warm-up of the Node tools only,
                       connections 1, 50, 200 for proxy-1k and 50 elsewhere; no flights-front (< 2 min)
  --tools a,b          subset of: ${toolNames.join(', ')}
  --scenarios x,y      subset of: ${allNames().join(', ')}
                       (--scenario is the same flag)
  --connections n,m    replace every scenario's connection counts
  --duration S         seconds per wrk run (default 5, quick 1; flights-front 10)
  --warmup S           seconds of warm-up per tool and scenario (default 3, quick 1)
  --repetitions N      interleaved repetitions, median reported (default 3)
  -h, --help`;

export function parseSettings(argv: string[]): Settings | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      tools: { type: 'string' },
      scenarios: { type: 'string' },
      scenario: { type: 'string' },
      connections: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      repetitions: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return 'help';
  const list = (text: string | undefined): string[] | undefined => text?.split(',').map((s) => s.trim()).filter(Boolean);

  const tools = list(values.tools) ?? [...toolNames];
  const unknownTool = tools.find((name) => !isToolName(name));
  if (unknownTool !== undefined) throw new Error(`--tools: unknown tool "${unknownTool}"; known: ${toolNames.join(', ')}`);

  const named = [...(list(values.scenarios) ?? []), ...(list(values.scenario) ?? [])];
  // flights-front takes a PostgreSQL and about two minutes: --quick leaves it out unless named.
  const scenarioNames = named.length > 0 ? named : allNames().filter((name) => !(values.quick && name === 'flights-front'));
  const unknown = scenarioNames.find((name) => !allNames().includes(name));
  if (unknown !== undefined) throw new Error(`--scenarios: unknown scenario "${unknown}"; known: ${allNames().join(', ')}`);
  const picked = scenarios.filter((s) => scenarioNames.includes(s.name));

  return {
    quick: values.quick,
    tools: tools.filter(isToolName),
    scenarios: picked,
    coalescing: scenarioNames.includes('coalescing'),
    flightsFront: scenarioNames.includes('flights-front'),
    flightsSeconds: positiveInt('--duration', values.duration ?? '10'),
    connections: list(values.connections)?.map((n) => positiveInt('--connections', n)),
    // wrk takes whole seconds only.
    seconds: positiveInt('--duration', values.duration ?? (values.quick ? '1' : '5')),
    warmupSeconds: positiveInt('--warmup', values.warmup ?? (values.quick ? '1' : '3')),
    repetitions: positiveInt('--repetitions', values.repetitions ?? '3'),
  };
}

function positiveInt(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag}: expected a positive whole number, got "${text}"`);
  return n;
}

function allNames(): string[] {
  return [...scenarios.map((s) => s.name), ...EXTRA_SCENARIOS];
}

export function connectionsOf(settings: Settings, scenario: Scenario): number[] {
  return settings.connections ?? (settings.quick ? scenario.quickConnections : scenario.connections);
}

import { parseArgs } from 'node:util';
import { scenarios, type Scenario } from './scenarios.ts';
import { isToolName, toolNames, type ToolName } from './tools/index.ts';

export interface Settings {
  quick: boolean;
  tools: ToolName[];
  scenarios: Scenario[];
  /** Connection counts replacing each scenario's own list, if given. */
  connections: number[] | undefined;
  seconds: number;
  warmupSeconds: number;
  repetitions: number;
}

export const usage = `Usage: npm run bench -- [options]

  --quick              3 short repetitions: 1 s runs, 1 s warm-up of the Node tools only,
                       connections 1, 50, 200 for proxy-1k and 50 elsewhere (< 2 min)
  --tools a,b          subset of: ${toolNames.join(', ')}
  --scenarios x,y      subset of: ${scenarios.map((s) => s.name).join(', ')}
  --connections n,m    replace every scenario's connection counts
  --duration S         seconds per wrk run (default 5, quick 1)
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

  const scenarioNames = list(values.scenarios) ?? scenarios.map((s) => s.name);
  const picked = scenarioNames.map((name) => {
    const found = scenarios.find((s) => s.name === name);
    if (found === undefined) throw new Error(`--scenarios: unknown scenario "${name}"; known: ${scenarios.map((s) => s.name).join(', ')}`);
    return found;
  });

  return {
    quick: values.quick,
    tools: tools.filter(isToolName),
    scenarios: picked,
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

export function connectionsOf(settings: Settings, scenario: Scenario): number[] {
  return settings.connections ?? (settings.quick ? scenario.quickConnections : scenario.connections);
}

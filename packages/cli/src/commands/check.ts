import { loadConfigFile, ConfigError } from '@rampart/gateway';
import { parseOrExit } from '../args.ts';

export const CHECK_HELP = `Usage: rampart check -c <file>

Validates a gateway config file and prints every problem with its key path.
Exits 0 when the file is valid, 1 when it is not.

Options:
  -c, --config <file>  the YAML config file (default: rampart.yaml)
`;

export async function checkCommand(args: string[]): Promise<number> {
  const values = parseOrExit(args, { config: { type: 'string', short: 'c', default: 'rampart.yaml' } }, CHECK_HELP);
  const file = String(values.config);
  try {
    const config = await loadConfigFile(file);
    process.stdout.write(`${file}: valid (${config.routes.length} routes, ${config.upstreams.size} upstreams)\n`);
    return 0;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

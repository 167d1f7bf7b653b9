import { loadConfigFile, ConfigError } from '@rampart/gateway';
import { parseOrExit } from '../args.ts';
import { CHECK_HELP } from '../help.ts';
import { checkRun } from '../up/run-check.ts';

export async function checkCommand(args: string[]): Promise<number> {
  const values = parseOrExit(args, { config: { type: 'string', short: 'c', default: 'rampart.yaml' } }, CHECK_HELP);
  const file = String(values.config);
  try {
    const config = await loadConfigFile(file, { run: checkRun });
    const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;
    process.stdout.write(`${file}: valid (${count(config.routes.length, 'route')}, ${count(config.upstreams.size, 'upstream')})\n`);
    return 0;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

// `rampart reload`: SIGHUP to the `rampart up` that runs a config file, found
// through its pid file (src/up/pid-file.ts). That process reloads the file
// and replaces every instance one at a time.
import path from 'node:path';
import { parseOrExit } from '../args.ts';
import { RELOAD_HELP } from '../help.ts';
import { isRampartUp, pidFilePath, readPidFile } from '../up/pid-file.ts';

export function reloadCommand(args: string[]): Promise<number> {
  const values = parseOrExit(args, { config: { type: 'string', short: 'c', default: 'rampart.yaml' } }, RELOAD_HELP);
  const file = path.resolve(String(values.config));
  const record = readPidFile(file);
  if (record === null || !isRampartUp(record.pid)) {
    const why = record === null ? `no pid file at ${pidFilePath(file)}` : `the pid file names process ${record.pid}, which is not a running rampart up`;
    process.stderr.write(`rampart reload: no rampart up is running ${file} (${why}); start it with \`rampart up -c ${String(values.config)}\`\n`);
    return Promise.resolve(1);
  }
  process.kill(record.pid, 'SIGHUP');
  process.stdout.write(
    `rampart reload: asked rampart up (pid ${record.pid}) to reload ${file} and replace its instances one at a time; ` +
      `its log shows the progress${record.admin === null ? '' : `, ${record.admin}/status the instances`}\n`,
  );
  return Promise.resolve(0);
}

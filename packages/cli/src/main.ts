import { HELP, GATEWAY_HELP, CHECK_HELP, DEMO_HELP, UP_HELP, RELOAD_HELP, PURGE_HELP } from './help.ts';

interface Command {
  run(args: string[]): Promise<number>;
  help: string;
}

// Loaded on use: the gateway package takes a good fraction of a second to
// load, which help, version and typos should not pay.
const COMMANDS: Record<string, Command> = {
  up: { run: async (args) => (await import('./commands/up.ts')).upCommand(args), help: UP_HELP },
  reload: { run: async (args) => (await import('./commands/reload.ts')).reloadCommand(args), help: RELOAD_HELP },
  gateway: { run: async (args) => (await import('./commands/gateway.ts')).gatewayCommand(args), help: GATEWAY_HELP },
  check: { run: async (args) => (await import('./commands/check.ts')).checkCommand(args), help: CHECK_HELP },
  purge: { run: async (args) => (await import('./commands/purge.ts')).purgeCommand(args), help: PURGE_HELP },
  demo: { run: async (args) => (await import('./commands/demo.ts')).demoCommand(args), help: DEMO_HELP },
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    const topic = name === 'help' ? rest[0] : undefined;
    process.stdout.write(topic && COMMANDS[topic] ? COMMANDS[topic].help : HELP);
    return 0;
  }
  if (name === '-v' || name === '--version') {
    const { default: pkg } = (await import('../package.json', { with: { type: 'json' } })) as { default: { version: string } };
    process.stdout.write(`rampart ${pkg.version}\n`);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`rampart: unknown command ${JSON.stringify(name)}\n\n${HELP}`);
    return 2;
  }
  if (rest.includes('-h') || rest.includes('--help')) {
    process.stdout.write(command.help);
    return 0;
  }
  return command.run(rest);
}

const code = await main(process.argv.slice(2));
if (code !== 0) process.exitCode = code;

import { gatewayCommand, GATEWAY_HELP } from './commands/gateway.ts';
import { checkCommand, CHECK_HELP } from './commands/check.ts';
import { demoCommand, DEMO_HELP } from './commands/demo.ts';

const HELP = `rampart: take a web application from one server to many, securely.

Usage: rampart <command> [options]

Commands:
  gateway   run the gateway from a config file           rampart gateway -c rampart.yaml
  check     validate a config file, print every problem  rampart check -c rampart.yaml
  demo      the gateway in front of three demo servers   rampart demo

Options:
  -h, --help     help for rampart or for a command (rampart gateway --help)
  -v, --version  print the version

Docs: docs/config.md (every config key), docs/ARCHITECTURE.md (how a request flows).
`;

interface Command {
  run(args: string[]): Promise<number>;
  help: string;
}

const COMMANDS: Record<string, Command> = {
  gateway: { run: gatewayCommand, help: GATEWAY_HELP },
  check: { run: checkCommand, help: CHECK_HELP },
  demo: { run: demoCommand, help: DEMO_HELP },
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

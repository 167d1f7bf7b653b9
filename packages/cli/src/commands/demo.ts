import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { Gateway, parseConfig, createLogger } from '@rampart/gateway';
import { parseOrExit } from '../args.ts';
import { DEMO_HELP } from '../help.ts';
import { runUntilSignalled, describeListenError } from './gateway.ts';

export async function demoCommand(args: string[]): Promise<number> {
  const values = parseOrExit(
    args,
    { port: { type: 'string', default: '8080' }, admin: { type: 'string', default: '127.0.0.1:9901' }, instances: { type: 'string', default: '3' } },
    DEMO_HELP,
  );
  const count = Number(values.instances);
  if (!Number.isInteger(count) || count < 1 || count > 32) {
    process.stderr.write('rampart demo: --instances must be an integer from 1 to 32\n');
    return 2;
  }
  const app = fileURLToPath(new URL('../demo-app.ts', import.meta.url));
  const children: ChildProcess[] = [];
  const ports: number[] = [];
  for (let i = 0; i < count; i++) {
    const port = await freePort();
    const child = fork(app, [], { env: { ...process.env, PORT: String(port), INSTANCE: `demo-${i + 1}` }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.push(child);
    await once(child, 'message');
    ports.push(port);
  }
  const stopChildren = () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  };
  process.on('exit', stopChildren);
  const yaml = `listen: ${JSON.stringify(String(values.port))}
admin: ${JSON.stringify(String(values.admin))}
upstreams:
  demo:
    servers: [${ports.map((p) => `"http://127.0.0.1:${p}"`).join(', ')}]
    balance: round-robin
routes:
  - path: /
    upstream: demo
`;
  const config = parseConfig(yaml, '<demo>');
  let gateway: Gateway;
  try {
    gateway = await Gateway.start(config, { logger: createLogger('info') });
  } catch (err) {
    const listenError = describeListenError(err);
    if (listenError === null) throw err;
    process.stderr.write(`rampart demo: ${listenError}; choose others with --port and --admin\n`);
    // The demo servers' IPC channels would keep this process alive.
    stopChildren();
    return 1;
  }
  process.stdout.write(`\nrampart demo: http://localhost:${gateway.port}/ -> ${count} servers; admin http://127.0.0.1:${gateway.adminPort}/status\n\n`);
  runUntilSignalled(gateway, null, false);
  return 0;
}

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

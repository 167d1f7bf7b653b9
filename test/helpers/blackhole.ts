// A server address whose connects never complete, like a dead host's, but on
// loopback: a child process listens with backlog 1 and blocks its event loop
// inside the listen callback, before any accept can run (stdout to a pipe is
// synchronous on Linux, so the port gets out first). Linux queues backlog+1
// connections and then drops SYNs; two filler connections take the queue.
import net from 'node:net';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { waitFor } from './wait.ts';

export interface Blackhole {
  readonly port: number;
  readonly url: string;
  close(): void;
}

export async function startBlackhole(): Promise<Blackhole> {
  const child = spawn(
    process.execPath,
    [
      '-e',
      `const s = require('net').createServer().listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
        process.stdout.write(s.address().port + '\\n');
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
      });`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const fillers: net.Socket[] = [];
  const close = () => {
    for (const s of fillers) s.destroy();
    child.kill('SIGKILL');
  };
  try {
    const [line] = (await once(child.stdout, 'data')) as [Buffer];
    const port = Number(String(line).trim());
    let connected = 0;
    for (let i = 0; i < 2; i++) {
      const s = net.connect(port, '127.0.0.1', () => connected++);
      s.on('error', () => {});
      fillers.push(s);
    }
    await waitFor(() => connected === 2, { what: 'the accept queue to fill' });
    return { port, url: `http://127.0.0.1:${port}`, close };
  } catch (err) {
    close();
    throw err;
  }
}

// A free TCP port for a new instance, found the way the brief asks: listen on
// port 0 on loopback, read the port the kernel chose, close.
//
// The port is free when we close it, not when the child binds it: another
// process may take it in between. That window is small, and losing the race
// is a crash (EADDRINUSE) that the restart path heals with a fresh port.

import net from 'node:net';

/**
 * Ports handed to instances of this process and not yet released. The kernel
 * could give a just-closed port out again before the child has bound it;
 * remembering them keeps two instances from being told the same PORT.
 */
const handedOut = new Set<number>();

export async function reservePort(host = '127.0.0.1', attempts = 20): Promise<number> {
  for (let i = 0; i < attempts; i++) {
    const port = await listenOnZero(host);
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free port on ${host} after ${attempts} attempts`);
}

export function releasePort(port: number): void {
  handedOut.delete(port);
}

function listenOnZero(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

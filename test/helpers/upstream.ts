// Real upstream servers for tests: node:http on port 0, and a raw TCP server
// that records the exact bytes it receives.
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';

export interface TestUpstream {
  readonly port: number;
  readonly url: string;
  readonly server: http.Server;
  close(): Promise<void>;
}

export async function startUpstream(handler: http.RequestListener): Promise<TestUpstream> {
  const server = http.createServer({ keepAliveTimeout: 30_000 }, handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export interface RecordingUpstream {
  readonly port: number;
  readonly url: string;
  /** Everything received, per connection, in order. */
  readonly received: Buffer[][];
  close(): Promise<void>;
}

/**
 * A raw TCP upstream that records bytes and answers each request it can
 * delimit with `respond` (default: 200 with an empty body).
 */
export async function startRecordingUpstream(onData?: (socket: net.Socket, all: Buffer) => void): Promise<RecordingUpstream> {
  const received: Buffer[][] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    const chunks: Buffer[] = [];
    received.push(chunks);
    socket.on('data', (d) => {
      chunks.push(d);
      onData?.(socket, Buffer.concat(chunks));
    });
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

// A raw TCP client: sends exact bytes and reads what comes back, so tests
// can speak malformed HTTP that no client library would send.
import net from 'node:net';
import { once } from 'node:events';

export interface RawResult {
  /** Everything received until the server closed or the read ended. */
  readonly data: Buffer;
  readonly text: string;
  /** The server closed the connection. */
  readonly closed: boolean;
}

/**
 * Sends `bytes` and collects the reply until the server closes, or until
 * `until(text)` is true, or `timeoutMs` passes (then closed is false).
 */
export async function rawRequest(port: number, bytes: Buffer | string, { timeoutMs = 3000, until }: { timeoutMs?: number; until?: (text: string) => boolean } = {}): Promise<RawResult> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const chunks: Buffer[] = [];
  return new Promise((resolve) => {
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const data = Buffer.concat(chunks);
      resolve({ data, text: data.toString('latin1'), closed });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('data', (d) => {
      chunks.push(d);
      if (until?.(Buffer.concat(chunks).toString('latin1'))) finish(false);
    });
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
    socket.write(bytes);
  });
}

/** Status codes of every response in `text`, in order. */
export function statuses(text: string): number[] {
  return [...text.matchAll(/HTTP\/1\.[01] (\d{3})/g)].map((m) => Number(m[1]));
}

// One client connection that stays open across requests, so a test can tell
// whether the gateway kept it (same socket, same local port) or closed it.
import net from 'node:net';
import { once } from 'node:events';

export interface KeepAliveResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export class KeepAliveClient {
  readonly socket: net.Socket;
  readonly localPort: number;
  closed = false;
  #buf = Buffer.alloc(0);
  #waiter: (() => void) | null = null;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    this.localPort = socket.localPort!;
    socket.on('data', (d: Buffer) => {
      this.#buf = Buffer.concat([this.#buf, d]);
      this.#waiter?.();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.#waiter?.();
    });
  }

  static async connect(port: number): Promise<KeepAliveClient> {
    const socket = net.connect(port, '127.0.0.1');
    await once(socket, 'connect');
    return new KeepAliveClient(socket);
  }

  /** Resolves once the server has closed the connection. */
  async whenClosed(): Promise<void> {
    while (!this.closed) await new Promise<void>((r) => (this.#waiter = r));
  }

  async get(path: string, headers: Record<string, string> = {}): Promise<KeepAliveResponse> {
    if (this.closed) throw new Error('connection closed before the request');
    const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    this.socket.write(`GET ${path} HTTP/1.1\r\nhost: test\r\n${extra}\r\n`);
    for (;;) {
      const parsed = this.#parse();
      if (parsed) return parsed;
      if (this.closed) throw new Error('connection closed before a whole response');
      await new Promise<void>((r) => (this.#waiter = r));
    }
  }

  /** One response off the buffer, framed by Content-Length or chunked coding. */
  #parse(): KeepAliveResponse | null {
    const end = this.#buf.indexOf('\r\n\r\n');
    if (end === -1) return null;
    const [statusLine = '', ...lines] = this.#buf.subarray(0, end).toString('latin1').split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    let at = end + 4;
    let body: Buffer;
    if (headers['transfer-encoding'] === 'chunked') {
      const parts: Buffer[] = [];
      for (;;) {
        const nl = this.#buf.indexOf('\r\n', at);
        if (nl === -1) return null;
        const size = parseInt(this.#buf.subarray(at, nl).toString('latin1'), 16);
        if (this.#buf.length < nl + 2 + size + 2) return null;
        parts.push(this.#buf.subarray(nl + 2, nl + 2 + size));
        at = nl + 2 + size + 2;
        if (size === 0) break;
      }
      body = Buffer.concat(parts);
    } else {
      const length = Number(headers['content-length'] ?? 0);
      if (this.#buf.length < at + length) return null;
      body = this.#buf.subarray(at, at + length);
      at += length;
    }
    this.#buf = this.#buf.subarray(at);
    return { status: Number(statusLine.split(' ')[1]), headers, body: body.toString() };
  }

  close(): void {
    this.socket.destroy();
  }
}

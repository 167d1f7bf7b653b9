// An upstream that frames what the gateway sends it with its own strict
// HTTP/1.1 reader, written apart from the gateway's parser so that the two
// can disagree: smuggling and corpus tests check that every byte the gateway
// forwards belongs to exactly one well-framed request. It answers each
// complete request with `200 ok`, and records everything per connection.
import net from 'node:net';
import { once } from 'node:events';

export interface ForwardedRequest {
  readonly method: string;
  readonly target: string;
  /** Lower-case names, in order. */
  readonly headers: readonly (readonly [string, string])[];
  readonly framing: 'none' | 'length' | 'chunked';
  /** The body as framed (chunked: decoded). */
  readonly body: Buffer;
}

export interface FramedStream {
  readonly requests: ForwardedRequest[];
  /** Bytes after the last complete request: the start of an unfinished one. */
  readonly rest: Buffer;
  /** Set when the bytes cannot be read as HTTP/1.1 requests at all. */
  readonly error: string | null;
}

const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) ([\x21-\x7e]+) HTTP\/1\.1$/;
const FIELD_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*([^\x00-\x08\x0a-\x1f\x7f]*?)[ \t]*$/;
const CHUNK_LINE = /^([0-9a-fA-F]{1,13})(?:;[^\r\n]*)?\r\n/;

/** Splits `buf` into the requests it holds; strict RFC 9112 framing, nothing lenient. */
export function frameRequests(buf: Buffer): FramedStream {
  const requests: ForwardedRequest[] = [];
  let at = 0;
  for (;;) {
    if (at === buf.length) return { requests, rest: buf.subarray(at), error: null };
    const headEnd = buf.indexOf('\r\n\r\n', at, 'latin1');
    if (headEnd === -1) return { requests, rest: buf.subarray(at), error: null };
    const lines = buf.toString('latin1', at, headEnd).split('\r\n');
    const fail = (error: string): FramedStream => ({ requests, rest: buf.subarray(at), error: `${error} at byte ${at}` });
    const line = REQUEST_LINE.exec(lines[0]!);
    if (!line) return fail(`bad request line ${JSON.stringify(lines[0])}`);
    const headers: [string, string][] = [];
    for (const text of lines.slice(1)) {
      const m = FIELD_LINE.exec(text);
      if (!m) return fail(`bad field line ${JSON.stringify(text)}`);
      headers.push([m[1]!.toLowerCase(), m[2]!]);
    }
    const lengths = headers.filter(([n]) => n === 'content-length').map(([, v]) => v);
    const codings = headers.filter(([n]) => n === 'transfer-encoding').map(([, v]) => v);
    if (lengths.length > 1 || codings.length > 1 || (lengths.length === 1 && codings.length === 1)) return fail('ambiguous framing');
    let pos = headEnd + 4;
    let body: Buffer;
    let framing: ForwardedRequest['framing'];
    if (codings.length === 1) {
      if (codings[0] !== 'chunked') return fail(`transfer-encoding ${JSON.stringify(codings[0])}`);
      framing = 'chunked';
      const parts: Buffer[] = [];
      for (;;) {
        const size = CHUNK_LINE.exec(buf.toString('latin1', pos, Math.min(buf.length, pos + 4096)));
        if (!size) {
          if (buf.indexOf('\r\n', pos, 'latin1') === -1 && buf.length - pos < 4096) return { requests, rest: buf.subarray(at), error: null };
          return fail('bad chunk size line');
        }
        pos += size[0].length;
        const n = parseInt(size[1]!, 16);
        if (n === 0) break;
        if (buf.length < pos + n + 2) return { requests, rest: buf.subarray(at), error: null };
        parts.push(buf.subarray(pos, pos + n));
        if (buf[pos + n] !== 13 || buf[pos + n + 1] !== 10) return fail('chunk data not followed by CRLF');
        pos += n + 2;
      }
      // Trailer section: field lines, then an empty line.
      for (;;) {
        const eol = buf.indexOf('\r\n', pos, 'latin1');
        if (eol === -1) return { requests, rest: buf.subarray(at), error: null };
        const text = buf.toString('latin1', pos, eol);
        pos = eol + 2;
        if (text === '') break;
        if (!FIELD_LINE.test(text)) return fail(`bad trailer line ${JSON.stringify(text)}`);
      }
      body = Buffer.concat(parts);
    } else if (lengths.length === 1) {
      if (!/^\d+$/.test(lengths[0]!)) return fail(`content-length ${JSON.stringify(lengths[0])}`);
      framing = 'length';
      const n = Number(lengths[0]);
      if (buf.length < pos + n) return { requests, rest: buf.subarray(at), error: null };
      body = buf.subarray(pos, pos + n);
      pos += n;
    } else {
      framing = 'none';
      body = Buffer.alloc(0);
    }
    requests.push({ method: line[1]!, target: line[2]!, headers, framing, body: Buffer.from(body) });
    at = pos;
  }
}

export interface UpstreamConnection {
  data: Buffer;
  framed: FramedStream;
  /** The gateway closed (or reset) this connection. */
  closed: boolean;
}

export interface FramingUpstream {
  readonly port: number;
  readonly url: string;
  readonly connections: readonly UpstreamConnection[];
  /** Every complete request, in the order they were complete, over all connections. */
  readonly log: readonly ForwardedRequest[];
  /** Framing errors seen on any connection. */
  errors(): string[];
  close(): Promise<void>;
}

const OK = 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok';
const OK_HEAD = 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n';

export async function startFramingUpstream(): Promise<FramingUpstream> {
  const connections: UpstreamConnection[] = [];
  const log: ForwardedRequest[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    const conn: UpstreamConnection = { data: Buffer.alloc(0), framed: { requests: [], rest: Buffer.alloc(0), error: null }, closed: false };
    connections.push(conn);
    let answered = 0;
    socket.on('data', (d: Buffer) => {
      conn.data = Buffer.concat([conn.data, d]);
      conn.framed = frameRequests(conn.data);
      if (conn.framed.error !== null) {
        socket.destroy();
        return;
      }
      while (answered < conn.framed.requests.length) {
        const request = conn.framed.requests[answered]!;
        log.push(request);
        answered++;
        socket.write(request.method === 'HEAD' ? OK_HEAD : OK);
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      conn.closed = true;
      sockets.delete(socket);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    connections,
    log,
    errors: () => connections.flatMap((c) => (c.framed.error === null ? [] : [c.framed.error])),
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface ClientExchange {
  /** Everything the gateway sent back. */
  readonly data: Buffer;
  /** Status of every complete response, in order. */
  readonly statuses: number[];
  /** Header blocks of those responses, lower-cased. */
  readonly heads: string[];
  /** The body text of those responses. */
  readonly bodies: string[];
  readonly closed: boolean;
}

/**
 * Sends `bytes` on a new connection. With `halfClose`, ends the write side
 * at once; otherwise waits for `until` (default: the gateway closes), then
 * half-closes and waits for the close. Resolves when the gateway has closed
 * or `timeoutMs` passed (closed: false).
 */
export async function exchange(port: number, bytes: Buffer, { halfClose = false, until, timeoutMs = 5000 }: { halfClose?: boolean; until?: (x: ClientExchange) => boolean; timeoutMs?: number } = {}): Promise<ClientExchange> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const chunks: Buffer[] = [];
  let closed = false;
  const snapshot = (): ClientExchange => ({ ...readResponses(Buffer.concat(chunks)), closed });
  return new Promise((resolve) => {
    let ended = halfClose;
    const timer = setTimeout(() => finish(), timeoutMs);
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(snapshot());
    };
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      if (!ended && until?.(snapshot())) {
        ended = true;
        socket.end();
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      closed = true;
      finish();
    });
    socket.write(bytes);
    if (halfClose) socket.end();
  });
}

/** Complete responses in `data`: Content-Length or chunked framing (what the gateway sends). */
export function readResponses(data: Buffer): Omit<ClientExchange, 'closed'> {
  const statuses: number[] = [];
  const heads: string[] = [];
  const bodies: string[] = [];
  let at = 0;
  for (;;) {
    const headEnd = data.indexOf('\r\n\r\n', at, 'latin1');
    if (headEnd === -1) break;
    const head = data.toString('latin1', at, headEnd);
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(head);
    if (!status) break;
    const lower = head.toLowerCase();
    const length = /\r\ncontent-length: *(\d+)/.exec(lower);
    let pos = headEnd + 4;
    let body: string;
    if (length) {
      const n = Number(length[1]);
      if (data.length < pos + n) break;
      body = data.toString('latin1', pos, pos + n);
      pos += n;
    } else if (/\r\ntransfer-encoding: *chunked/.test(lower)) {
      const parts: string[] = [];
      let done = false;
      for (;;) {
        const eol = data.indexOf('\r\n', pos, 'latin1');
        if (eol === -1) break;
        const n = parseInt(data.toString('latin1', pos, eol), 16);
        if (n === 0) {
          if (data.length >= eol + 4) {
            pos = eol + 4;
            done = true;
          }
          break;
        }
        if (data.length < eol + 2 + n + 2) break;
        parts.push(data.toString('latin1', eol + 2, eol + 2 + n));
        pos = eol + 2 + n + 2;
      }
      if (!done) break;
      body = parts.join('');
    } else {
      // No framing: a body-less answer (1xx/204/304) or one that runs to the close.
      body = '';
    }
    statuses.push(Number(status[1]));
    heads.push(lower);
    bodies.push(body);
    at = pos;
  }
  return { data, statuses, heads, bodies };
}

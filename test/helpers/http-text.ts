// A long-lived raw TCP connection for tests that speak HTTP/1.x byte by byte
// (pipelining, Expect, slow clients), and a strict parser of the responses it
// receives, so tests can assert framing (chunked, length, close-delimited).
import net from 'node:net';
import { once } from 'node:events';
import { waitFor } from './wait.ts';

export interface RawConnection {
  readonly socket: net.Socket;
  /** Everything received so far. */
  received(): Buffer;
  /** True once the server closed (FIN or reset). */
  readonly closed: () => boolean;
  /** Resolves once `check(received)` holds; rejects past the deadline. */
  until(check: (data: Buffer) => boolean, what: string, timeoutMs?: number): Promise<Buffer>;
  untilClosed(timeoutMs?: number): Promise<void>;
}

export async function openRaw(port: number): Promise<RawConnection> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const chunks: Buffer[] = [];
  let size = 0;
  let closed = false;
  socket.on('data', (d: Buffer) => {
    chunks.push(d);
    size += d.length;
  });
  socket.on('error', () => {});
  socket.on('close', () => (closed = true));
  const received = () => Buffer.concat(chunks, size);
  return {
    socket,
    received,
    closed: () => closed,
    until: (check, what, timeoutMs = 5000) => waitFor(() => (check(received()) ? received() : null), { timeoutMs, what, intervalMs: 5 }),
    untilClosed: async (timeoutMs = 5000) => {
      await waitFor(() => closed, { timeoutMs, what: 'the server to close the connection', intervalMs: 5 });
    },
  };
}

export interface ParsedResponse {
  status: number;
  reason: string;
  /** Lower-case names; repeated fields keep every value. */
  headers: Map<string, string[]>;
  /** The head as received, for "this name does not appear" checks. */
  head: string;
  body: Buffer;
  framing: 'length' | 'chunked' | 'close' | 'none';
}

export interface ParseResult {
  responses: ParsedResponse[];
  /** The last response is complete (a close-delimited one is complete only with `eof`). */
  complete: boolean;
}

/**
 * Parses back-to-back responses. `noBody[i]` marks the i-th final response
 * as one to a HEAD request. 1xx responses are returned too. `eof`: the
 * connection was closed, so a close-delimited body is whole.
 */
export function parseResponses(data: Buffer, { noBody = [], eof = false }: { noBody?: boolean[]; eof?: boolean } = {}): ParseResult {
  const responses: ParsedResponse[] = [];
  let pos = 0;
  let finalIndex = 0;
  while (pos < data.length) {
    const end = data.indexOf('\r\n\r\n', pos);
    if (end === -1) return { responses, complete: false };
    const head = data.toString('latin1', pos, end);
    const lines = head.split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3}) ?(.*)$/.exec(lines[0]!);
    if (!m) throw new Error(`not a status line: ${JSON.stringify(lines[0])}`);
    const status = Number(m[1]);
    const headers = new Map<string, string[]>();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).toLowerCase();
      headers.set(name, [...(headers.get(name) ?? []), line.slice(colon + 1).trim()]);
    }
    pos = end + 4;
    const response: ParsedResponse = { status, reason: m[2]!, headers, head, body: Buffer.alloc(0), framing: 'none' };
    responses.push(response);
    if (status < 200) continue;
    const bodyless = noBody[finalIndex++] === true || status === 204 || status === 304;
    if (bodyless) continue;
    const te = headers.get('transfer-encoding')?.join(',');
    const cl = headers.get('content-length')?.[0];
    if (te !== undefined) {
      if (!/(^|,)\s*chunked\s*$/i.test(te)) throw new Error(`unexpected transfer-encoding ${te}`);
      response.framing = 'chunked';
      const parts: Buffer[] = [];
      for (;;) {
        const lineEnd = data.indexOf('\r\n', pos);
        if (lineEnd === -1) return { responses, complete: false };
        const size = parseInt(data.toString('latin1', pos, lineEnd).split(';')[0]!, 16);
        if (Number.isNaN(size)) throw new Error('bad chunk size');
        pos = lineEnd + 2;
        if (size === 0) {
          // Trailer section up to an empty line.
          const trailerEnd = data.indexOf('\r\n', pos);
          if (trailerEnd === -1) return { responses, complete: false };
          if (trailerEnd !== pos) {
            const fullEnd = data.indexOf('\r\n\r\n', pos);
            if (fullEnd === -1) return { responses, complete: false };
            pos = fullEnd + 4;
          } else pos += 2;
          break;
        }
        if (data.length < pos + size + 2) return { responses, complete: false };
        parts.push(data.subarray(pos, pos + size));
        pos += size + 2;
      }
      response.body = Buffer.concat(parts);
    } else if (cl !== undefined) {
      response.framing = 'length';
      const n = Number(cl);
      if (data.length < pos + n) return { responses, complete: false };
      response.body = data.subarray(pos, pos + n);
      pos += n;
    } else {
      response.framing = 'close';
      response.body = data.subarray(pos);
      pos = data.length;
      return { responses, complete: eof };
    }
  }
  return { responses, complete: responses.length > 0 };
}

/** Final (non-1xx) responses in `data` once it holds `count` complete ones. */
export function finalResponses(data: Buffer, options: { noBody?: boolean[]; eof?: boolean } = {}): ParsedResponse[] {
  return parseResponses(data, options).responses.filter((r) => r.status >= 200);
}

export function hasResponses(count: number, options: { noBody?: boolean[] } = {}): (data: Buffer) => boolean {
  return (data) => {
    const parsed = parseResponses(data, options);
    return parsed.complete && parsed.responses.filter((r) => r.status >= 200).length >= count;
  };
}

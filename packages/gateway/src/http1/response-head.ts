// Parsing of an upstream's response head (RFC 9112 §4-§6). Servers behind
// the gateway are trusted more than clients, but a response whose framing is
// ambiguous is still refused (502), since the gateway re-frames it for the
// client and must know exactly where it ends.
import type { HeaderList } from '../middleware/types.ts';
import { splitTokens, trimOws } from './request-head.ts';

export interface ResponseHead {
  status: number;
  reason: string;
  minor: 0 | 1;
  headers: HeaderList;
  /** -1 when absent. */
  contentLength: number;
  chunked: boolean;
  /** The server will keep the connection open after this response. */
  keepAlive: boolean;
  connection: string[] | null;
}

const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: ([\t\x20-\x7e\x80-\xff]*))?$/;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const BAD_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;

/** Returns the parsed head, or a string saying what is wrong with it. */
export function parseResponseHead(head: string): ResponseHead | string {
  let lineEnd = head.indexOf('\r\n');
  const m = STATUS_LINE.exec(lineEnd === -1 ? head : head.slice(0, lineEnd));
  if (!m) return 'malformed status line';
  const minor = m[1] === '1' ? 1 : 0;
  const status = Number(m[2]);
  if (status < 100) return 'invalid status code';
  const headers: HeaderList = [];
  let contentLength = -1;
  let lengthAt = -1;
  let transferEncoding: string | null = null;
  let connection: string[] | null = null;
  while (lineEnd !== -1) {
    const start = lineEnd + 2;
    lineEnd = head.indexOf('\r\n', start);
    const line = lineEnd === -1 ? head.slice(start) : head.slice(start, lineEnd);
    const colon = line.indexOf(':');
    if (colon <= 0) return line[0] === ' ' || line[0] === '\t' ? 'obsolete line folding' : 'malformed header line';
    const rawName = line.slice(0, colon);
    if (!TOKEN.test(rawName)) return 'invalid header name';
    const rawValue = line.slice(colon + 1);
    if (BAD_VALUE.test(rawValue)) return 'invalid character in header value';
    // OWS only (SP / HTAB): String#trim would also eat NBSP (0xA0 in latin1),
    // turning `5\xA0` into a length other parsers refuse.
    const value = trimOws(rawValue);
    const name = rawName.toLowerCase();
    if (name === 'content-length') {
      // §6.3: a list of identical values may be taken as one; anything else is fatal.
      const values = value.split(',').map(trimOws);
      const first = values[0] ?? '';
      if (!/^\d{1,15}$/.test(first) || values.some((v) => v !== first)) return 'invalid Content-Length';
      const n = Number(first);
      if (contentLength !== -1 && contentLength !== n) return 'conflicting Content-Length';
      // Kept once, in canonical form: the client is told `5`, never `5, 5`.
      if (contentLength === -1) {
        lengthAt = headers.length;
        headers.push(name, String(n));
      }
      contentLength = n;
      continue;
    } else if (name === 'transfer-encoding') {
      transferEncoding = transferEncoding === null ? value : `${transferEncoding}, ${value}`;
    } else if (name === 'connection') {
      connection = (connection ?? ([] as string[])).concat(splitTokens(value));
    }
    headers.push(name, value);
  }
  let chunked = false;
  let keepAlive = minor === 1 ? !(connection?.includes('close') ?? false) : (connection?.includes('keep-alive') ?? false);
  if (transferEncoding !== null) {
    const codings = splitTokens(transferEncoding);
    // §6.3: Transfer-Encoding overrides Content-Length; chunked must be last,
    // otherwise the body runs until the connection closes.
    chunked = codings.at(-1) === 'chunked';
    // Another final coding (gzip alone) means "read until close", and the
    // gateway, which re-frames bodies, would hand the client coded bytes with
    // nothing saying so. Such servers are rare; refusing is the safe answer.
    if (!chunked) return 'unsupported transfer coding';
    // §6.1: Transfer-Encoding in an HTTP/1.0 message, or beside
    // Content-Length, means the framing is faulty: read this message as
    // Transfer-Encoding says, then close. An intermediary removes the
    // Content-Length before forwarding (§6.3).
    if (!chunked || minor === 0 || contentLength !== -1) keepAlive = false;
    if (contentLength !== -1) {
      headers.splice(lengthAt, 2);
      contentLength = -1;
    }
  }
  return { status, reason: m[3] ?? '', minor, headers, contentLength, chunked, keepAlive, connection };
}

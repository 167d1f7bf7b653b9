// Strict parsing of an HTTP/1.1 request head (RFC 9112 §2-§7). Whatever could
// be read two ways by two parsers is refused, because a proxy that forwards an
// ambiguous message is how request smuggling happens. The request is then
// re-serialised from these parsed fields; raw bytes are never forwarded.
import { BadRequestError } from '../errors.ts';
import type { HeaderList } from '../middleware/types.ts';

export interface RequestHead {
  method: string;
  /** origin-form (absolute-form is rewritten to it), or `*`. */
  target: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  minor: 0 | 1;
  /** Lower-case names, values with surrounding whitespace removed. */
  headers: HeaderList;
  /** Authority from Host (or absolute-form), lower-case; '' for HTTP/1.0 without one. */
  host: string;
  /** -1 when absent. */
  contentLength: number;
  chunked: boolean;
  keepAlive: boolean;
  /** Tokens of the Connection field, lower-case. */
  connection: string[] | null;
  /** The Upgrade field when Connection lists `upgrade`. */
  upgrade: string | null;
  expectContinue: boolean;
}

const METHOD = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// field-value = *( VCHAR / obs-text / SP / HTAB ): no CTLs, so no NUL, bare CR or LF.
const BAD_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;
// request-target in origin-form/absolute-form: visible ASCII only.
const BAD_TARGET = /[^\x21-\x7e]/;
// authority = host [ ":" port ]; reg-name or IPv4 or [IPv6]; no userinfo.
const AUTHORITY = /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._~!$&'()*+,;=%-]*)(?::\d{0,5})?$/;
const DIGITS = /^\d{1,15}$/;
const FRAMING_ALIAS = /^(?:content[-_]length|transfer[-_]encoding)$/;

/**
 * Parses `head` (request line and header lines, latin1, without the final
 * empty line). Throws BadRequestError with the status to answer.
 */
export function parseRequestHead(head: string, maxHeaders: number): RequestHead {
  let lineEnd = head.indexOf('\r\n');
  const requestLine = lineEnd === -1 ? head : head.slice(0, lineEnd);
  const sp1 = requestLine.indexOf(' ');
  const sp2 = requestLine.indexOf(' ', sp1 + 1);
  if (sp1 <= 0 || sp2 === -1 || requestLine.indexOf(' ', sp2 + 1) !== -1) throw new BadRequestError('malformed request line');
  const method = requestLine.slice(0, sp1);
  let target = requestLine.slice(sp1 + 1, sp2);
  const version = requestLine.slice(sp2 + 1);
  if (!METHOD.test(method)) throw new BadRequestError('invalid method');
  if (target.length === 0 || BAD_TARGET.test(target)) throw new BadRequestError('invalid request target');
  let minor: 0 | 1;
  if (version === 'HTTP/1.1') minor = 1;
  else if (version === 'HTTP/1.0') minor = 0;
  else if (/^HTTP\/\d\.\d$/.test(version)) throw new BadRequestError('HTTP version not supported', 505);
  else throw new BadRequestError('malformed request line');

  const headers: HeaderList = [];
  let host: string | null = null;
  let contentLength = -1;
  let transferEncoding: string | null = null;
  let connection: string[] | null = null;
  let upgradeField: string | null = null;
  let expect: string | null = null;
  let count = 0;

  while (lineEnd !== -1) {
    const start = lineEnd + 2;
    lineEnd = head.indexOf('\r\n', start);
    const line = lineEnd === -1 ? head.slice(start) : head.slice(start, lineEnd);
    if (++count > maxHeaders) throw new BadRequestError(`more than ${maxHeaders} header fields`, 431);
    const colon = line.indexOf(':');
    // No whitespace is allowed between name and colon (§5.1), and obs-fold
    // (a line starting with SP/HTAB) is refused (§5.2): both make the name
    // ambiguous between parsers.
    if (colon <= 0) throw new BadRequestError(line.length > 0 && (line[0] === ' ' || line[0] === '\t') ? 'obsolete line folding' : 'malformed header line');
    const rawName = line.slice(0, colon);
    if (!TOKEN.test(rawName)) throw new BadRequestError('invalid header name');
    let value = line.slice(colon + 1);
    if (BAD_VALUE.test(value)) throw new BadRequestError('invalid character in header value');
    value = trimOws(value);
    const name = rawName.toLowerCase();
    // Some servers (CGI, WSGI, PHP-FPM environments) fold `_` into `-`, so
    // `Transfer_Encoding` would frame the body for them and not for us.
    if (name.includes('_') && FRAMING_ALIAS.test(name)) throw new BadRequestError('invalid header name');
    switch (name) {
      case 'host':
        if (host !== null) throw new BadRequestError('duplicate Host');
        host = value;
        break;
      case 'content-length':
        if (contentLength !== -1) throw new BadRequestError('duplicate Content-Length');
        if (!DIGITS.test(value)) throw new BadRequestError('invalid Content-Length');
        contentLength = Number(value);
        // Re-serialised in canonical form: `003` is read as 3 here, and
        // nothing is gained by letting another parser guess at it.
        value = String(contentLength);
        break;
      case 'transfer-encoding':
        transferEncoding = transferEncoding === null ? value : `${transferEncoding}, ${value}`;
        break;
      case 'connection':
        connection = (connection ?? ([] as string[])).concat(splitTokens(value));
        break;
      case 'upgrade':
        upgradeField = value;
        break;
      case 'expect':
        expect = expect === null ? value : `${expect}, ${value}`;
        break;
      default:
        break;
    }
    headers.push(name, value);
  }

  let chunked = false;
  if (transferEncoding !== null) {
    if (minor === 0) throw new BadRequestError('Transfer-Encoding in an HTTP/1.0 request');
    // Only `chunked`, once: anything else is either unsupported (501, §6.1)
    // or a classic desync gadget (`chunked, identity`, `xchunked`, ...).
    if (transferEncoding.toLowerCase() !== 'chunked') {
      const codings = transferEncoding.split(',').map((c) => trimOws(c).toLowerCase());
      // §6.3 (4): chunked not last (or absent) leaves the length unknown;
      // §6.1: chunked is applied at most once.
      if (codings.at(-1) !== 'chunked' || codings.indexOf('chunked') !== codings.length - 1 || codings.some((c) => !TOKEN.test(c))) {
        throw new BadRequestError('invalid Transfer-Encoding');
      }
      throw new BadRequestError('unsupported transfer coding', 501);
    }
    // §6.3: a message with both is a smuggling attempt more often than not.
    if (contentLength !== -1) throw new BadRequestError('both Transfer-Encoding and Content-Length');
    chunked = true;
  }

  // Checked before the target's form: `CONNECT / HTTP/1.1` must not be
  // forwarded as an ordinary request for an upstream to open a tunnel on.
  if (method === 'CONNECT') throw new BadRequestError('CONNECT is not supported', 501);
  if (target[0] !== '/') {
    if (target === '*') {
      if (method !== 'OPTIONS') throw new BadRequestError('asterisk-form is only for OPTIONS');
    } else {
      const absolute = /^http(s?):\/\/([^/?#]*)([^#]*)$/i.exec(target);
      if (!absolute) throw new BadRequestError('invalid request target');
      const authority = absolute[2]!.toLowerCase();
      // RFC 9110 §4.2.1: an http(s) URI with an empty host is invalid.
      if (authority === '' || authority[0] === ':') throw new BadRequestError('invalid request target');
      // §3.2.2: the target's authority replaces Host; a different Host is an
      // attempt to be routed one way and served another.
      if (host !== null && host.toLowerCase() !== authority) throw new BadRequestError('absolute-form target does not match Host');
      host ??= authority;
      const rest = absolute[3]!;
      target = rest === '' ? '/' : rest[0] === '?' ? `/${rest}` : rest;
    }
  } else if (target.includes('#')) {
    throw new BadRequestError('fragment in request target');
  }

  if (host === null) {
    if (minor === 1) throw new BadRequestError('missing Host');
    host = '';
  } else if (!AUTHORITY.test(host)) {
    throw new BadRequestError('invalid Host');
  }

  let keepAlive = minor === 1;
  let upgrade: string | null = null;
  if (connection !== null) {
    if (connection.includes('close')) keepAlive = false;
    else if (minor === 0 && connection.includes('keep-alive')) keepAlive = true;
    if (connection.includes('upgrade') && upgradeField !== null && minor === 1) upgrade = upgradeField;
  }
  let expectContinue = false;
  if (expect !== null) {
    if (expect.toLowerCase() !== '100-continue') throw new BadRequestError('unsupported Expect', 417);
    expectContinue = minor === 1;
  }

  return { method, target, minor, headers, host: host.toLowerCase(), contentLength, chunked, keepAlive, connection, upgrade, expectContinue };
}

export function trimOws(value: string): string {
  let s = 0;
  let e = value.length;
  while (s < e && (value.charCodeAt(s) === 32 || value.charCodeAt(s) === 9)) s++;
  while (e > s && (value.charCodeAt(e - 1) === 32 || value.charCodeAt(e - 1) === 9)) e--;
  return s === 0 && e === value.length ? value : value.slice(s, e);
}

export function splitTokens(value: string): string[] {
  const out: string[] = [];
  for (const part of value.split(',')) {
    const t = trimOws(part).toLowerCase();
    if (t !== '') out.push(t);
  }
  return out;
}

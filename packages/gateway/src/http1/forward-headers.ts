// What crosses the gateway and what does not (RFC 9110 §7.6): hop-by-hop
// fields stay on their hop, and the forwarding fields say who the client was.
// Client-supplied X-Forwarded-* / Forwarded are replaced unless the peer is a
// trusted proxy, otherwise any client could claim any address.
import type { HeaderList } from '../middleware/types.ts';
import { splitTokens } from './request-head.ts';

/** Never forwarded, in either direction (§7.6.1), plus `proxy` (httpoxy). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'proxy']);
const FORWARDING = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port', 'x-real-ip', 'forwarded']);

export const VIA = '1.1 rampart';

export interface ForwardContext {
  /** Client address as seen on the socket. */
  readonly remoteAddress: string;
  readonly secure: boolean;
  /** Host the client addressed. */
  readonly host: string;
  /** The peer is a configured trusted proxy: extend its forwarding fields. */
  readonly trusted: boolean;
  /** Keep Upgrade + `Connection: upgrade` (a WebSocket handshake). */
  readonly upgrade: boolean;
  /** The body is re-chunked upstream. */
  readonly chunked: boolean;
}

export function requestHeadersForUpstream(headers: HeaderList, connection: readonly string[] | null, ctx: ForwardContext): HeaderList {
  const out: HeaderList = [];
  let xff: string | null = null;
  let forwarded: string | null = null;
  let xfProto: string | null = null;
  let xfHost: string | null = null;
  let via: string | null = null;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    const value = headers[i + 1]!;
    if (HOP_BY_HOP.has(name) || name.startsWith('proxy-') || name === 'expect') {
      if (name === 'upgrade' && ctx.upgrade) out.push(name, value);
      continue;
    }
    // Content-Length is this hop's framing of the body the gateway forwards,
    // not an option the client may withdraw: dropping it on `Connection:
    // content-length` would leave the body to be read as the next request.
    if (connection !== null && name !== 'content-length' && connection.includes(name)) continue;
    if (FORWARDING.has(name)) {
      if (!ctx.trusted) continue;
      if (name === 'x-forwarded-for') xff = xff === null ? value : `${xff}, ${value}`;
      else if (name === 'forwarded') forwarded = forwarded === null ? value : `${forwarded}, ${value}`;
      else if (name === 'x-forwarded-proto') xfProto ??= value;
      else if (name === 'x-forwarded-host') xfHost ??= value;
      else out.push(name, value);
      continue;
    }
    if (name === 'via') {
      via = via === null ? value : `${via}, ${value}`;
      continue;
    }
    out.push(name, value);
  }
  const client = clientAddress(ctx.remoteAddress);
  const proto = ctx.secure ? 'https' : 'http';
  out.push(
    'x-forwarded-for', xff === null ? client : `${xff}, ${client}`,
    'x-forwarded-proto', xfProto ?? proto,
    'x-forwarded-host', xfHost ?? ctx.host,
    'forwarded', appendForwarded(forwarded, client, proto, ctx.host),
    'via', via === null ? VIA : `${via}, ${VIA}`,
  );
  if (ctx.upgrade) out.push('connection', 'upgrade');
  if (ctx.chunked) out.push('transfer-encoding', 'chunked');
  return out;
}

/** Response fields for the client: hop-by-hop removed, Via added. Framing fields are the caller's. */
export function responseHeadersForClient(headers: HeaderList, keepUpgrade: boolean): HeaderList {
  const out: HeaderList = [];
  let connection: string[] | null = null;
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] === 'connection') connection = (connection ?? ([] as string[])).concat(splitTokens(headers[i + 1]!));
  }
  let via: string | null = null;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    if (HOP_BY_HOP.has(name) || name === 'content-length' || name.startsWith('proxy-')) {
      if (keepUpgrade && name === 'upgrade') out.push(name, headers[i + 1]!);
      continue;
    }
    if (connection !== null && connection.includes(name)) continue;
    if (name === 'via') {
      via = via === null ? headers[i + 1]! : `${via}, ${headers[i + 1]!}`;
      continue;
    }
    out.push(name, headers[i + 1]!);
  }
  out.push('via', via === null ? VIA : `${via}, ${VIA}`);
  return out;
}

export function clientAddress(remote: string): string {
  return remote.startsWith('::ffff:') && remote.includes('.') ? remote.slice(7) : remote;
}

function appendForwarded(previous: string | null, client: string, proto: string, host: string): string {
  // RFC 7239 §6: IPv6 addresses are quoted and bracketed.
  const node = client.includes(':') ? `"[${client}]"` : client;
  const hostPart = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(host) ? host : `"${host.replace(/["\\]/g, '')}"`;
  const element = `for=${node};proto=${proto};host=${hostPart}`;
  return previous === null ? element : `${previous}, ${element}`;
}

export function serializeHead(firstLine: string, headers: HeaderList): string {
  let out = firstLine + '\r\n';
  for (let i = 0; i < headers.length; i += 2) out += headers[i]! + ': ' + headers[i + 1]! + '\r\n';
  return out + '\r\n';
}

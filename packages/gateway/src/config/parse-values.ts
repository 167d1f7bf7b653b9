// Conversions of the config's human-friendly values, shared by the loader and
// the docs. Each returns a reason string instead of throwing, so that every
// problem of a file is reported at once.

const DURATION = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

export function parseDuration(value: number | string): number {
  if (typeof value === 'number') return value;
  const m = DURATION.exec(value);
  if (!m) throw new TypeError(`not a duration: ${value}`);
  return Math.round(Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS]);
}

const SIZE = /^\s*(\d+(?:\.\d+)?)\s*([kmg]i?b|b)?\s*$/i;
const UNIT_BYTES: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };

/** `8MiB` → 8388608, `1.5KB` → 1500; a number is bytes already. */
export function parseSize(value: number | string): number {
  if (typeof value === 'number') return value;
  const m = SIZE.exec(value);
  if (!m) throw new TypeError(`not a size: ${value}`);
  return Math.floor(Number(m[1]) * UNIT_BYTES[(m[2] ?? 'b').toLowerCase()]!);
}

export interface ListenAddress {
  /** undefined: all interfaces. */
  readonly host: string | undefined;
  readonly port: number;
}

export function parseListen(value: number | string): ListenAddress | string {
  if (typeof value === 'number') return { host: undefined, port: value };
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(value.trim());
  if (!m) {
    if (/^\d{1,5}$/.test(value.trim())) return { host: undefined, port: Number(value) };
    return `must be a port or host:port (got ${JSON.stringify(value)})`;
  }
  const port = Number(m[3]);
  if (port > 65535) return `port ${port} is out of range 0-65535`;
  const host = m[1] ?? m[2];
  return { host: host === '' || host === '*' ? undefined : host, port };
}

export interface ServerAddress {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Value of the Host header the server is reached with, when it is not the client's. */
  readonly authority: string;
}

export function parseServerUrl(value: string): ServerAddress | string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `not a URL: ${JSON.stringify(value)} (expected http://host:port)`;
  }
  if (url.protocol === 'https:') return 'https:// servers are not supported yet; use http://';
  if (url.protocol !== 'http:') return `unsupported scheme ${url.protocol} (expected http://host:port)`;
  if (url.pathname !== '/' || url.search || url.hash) return `a server URL has no path, query or fragment (got ${JSON.stringify(value)})`;
  if (url.username || url.password) return 'a server URL carries no credentials';
  const port = url.port === '' ? 80 : Number(url.port);
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return { url: `http://${url.host}`, host, port, authority: url.host };
}

// Every error the gateway creates comes from this file, with a stable code
// (RAMPART_ERR_*) that logs, metrics and tests can key on, and a message that
// says what to do. Modelled on undici's UND_ERR_* and Fastify's FST_ERR_*.
import type { HeaderList } from './middleware/types.ts';

const NO_HEADERS: HeaderList = Object.freeze([]) as unknown as HeaderList;

export class RampartError extends Error {
  readonly code: string;
  /** HTTP status a client sees when this error ends its request. */
  readonly status: number;
  /** What the client is told: the cause, without internal addresses. */
  readonly publicMessage: string;
  /**
   * Fields added to the error response the gateway writes for this error:
   * a middleware that sees the error on its way to the client (the edge
   * cache's Cache-Status) says its part without answering in its place, so
   * the access log keeps the error's code.
   */
  readonly responseHeaders: HeaderList = NO_HEADERS;

  constructor(code: string, status: number, message: string, options?: ErrorOptions & { publicMessage?: string }) {
    super(message, options);
    this.name = 'RampartError';
    this.code = code;
    this.status = status;
    this.publicMessage = options?.publicMessage ?? message;
  }

  /** This error, for one client, with `headers` added to its response (a copy: errors may be shared by coalesced requests). */
  withResponseHeaders(headers: HeaderList): RampartError {
    const copy = Object.create(Object.getPrototypeOf(this) as object, Object.getOwnPropertyDescriptors(this)) as RampartError;
    Object.defineProperty(copy, 'responseHeaders', { value: [...this.responseHeaders, ...headers], enumerable: true });
    return copy;
  }
}

/** A request the gateway refuses to parse or forward (RFC 9112 framing rules). */
export class BadRequestError extends RampartError {
  constructor(reason: string, status = 400) {
    super('RAMPART_ERR_BAD_REQUEST', status, reason);
    this.name = 'BadRequestError';
  }
}

export const upstreamConnectFailed = (server: string, cause: unknown): RampartError =>
  new RampartError('RAMPART_ERR_UPSTREAM_CONNECT', 502, `could not connect to upstream server ${server}`, { cause, publicMessage: 'could not connect to the upstream server' });

export const upstreamConnectTimeout = (server: string, ms: number): RampartError =>
  new RampartError('RAMPART_ERR_UPSTREAM_CONNECT_TIMEOUT', 502, `connecting to upstream server ${server} took longer than ${ms} ms`, { publicMessage: 'timed out connecting to the upstream server' });

export const upstreamHeadersTimeout = (server: string, ms: number): RampartError =>
  new RampartError('RAMPART_ERR_UPSTREAM_HEADERS_TIMEOUT', 504, `upstream server ${server} sent no response headers within ${ms} ms`, { publicMessage: 'the upstream server did not answer in time' });

export const upstreamIdleTimeout = (server: string, ms: number): RampartError =>
  new RampartError('RAMPART_ERR_UPSTREAM_IDLE_TIMEOUT', 504, `upstream server ${server} went silent for ${ms} ms mid-response`, { publicMessage: 'the upstream server stopped answering' });

export const upstreamReset = (server: string, cause?: unknown): RampartError =>
  new RampartError('RAMPART_ERR_UPSTREAM_RESET', 502, `upstream server ${server} closed the connection before the response was complete`, { cause, publicMessage: 'the upstream server closed the connection' });

export const upstreamBadResponse = (server: string, reason: string): RampartError =>
  new RampartError('RAMPART_ERR_UPSTREAM_BAD_RESPONSE', 502, `upstream server ${server} sent an invalid response: ${reason}`, { publicMessage: 'the upstream server sent an invalid response' });

export const noRoute = (): RampartError =>
  new RampartError('RAMPART_ERR_NO_ROUTE', 404, 'no route matches this request');

export const noServer = (upstream: string): RampartError =>
  new RampartError('RAMPART_ERR_NO_SERVER', 503, `upstream ${upstream} has no server available`);

export const clientAborted = (): RampartError =>
  new RampartError('RAMPART_ERR_CLIENT_ABORTED', 499, 'the client closed the connection before the response was complete');

export const clientStalled = (): RampartError =>
  new RampartError('RAMPART_ERR_CLIENT_STALLED', 408, 'the client stopped reading its response');

export const shuttingDown = (): RampartError =>
  new RampartError('RAMPART_ERR_SHUTTING_DOWN', 503, 'the gateway is shutting down');

/** §5.2.2.2: a stale response the origin marked must-revalidate (or s-maxage) is not served when nothing can revalidate it. */
export const cacheMustRevalidate = (upstream: string): RampartError =>
  new RampartError('RAMPART_ERR_CACHE_MUST_REVALIDATE', 504, `the stored response is stale and must be revalidated, but upstream ${upstream} has no server available`, {
    publicMessage: 'the stored response is stale and must be revalidated, but no upstream server is available',
  });

/** The edge cache threw on a request: a bug, answered as an error instead of crashing the process. */
export const cacheFailed = (cause: unknown): RampartError =>
  new RampartError('RAMPART_ERR_CACHE_INTERNAL', 500, 'the edge cache failed on this request', { cause });

export const cacheUnavailable = (): RampartError =>
  new RampartError('RAMPART_ERR_CACHE_UNAVAILABLE', 503, 'no cache store is open: no route has cache enabled, or the Redis store is not connected yet');

/** The cache's Redis cannot be reached or answered badly; the message names the URL without its password. */
export const cacheStoreError = (message: string): RampartError =>
  new RampartError('RAMPART_ERR_CACHE_STORE', 503, message, { publicMessage: 'the cache store is unavailable' });

/** A cache store setting that only shows when the gateway starts (an environment variable it names). */
export const cacheConfig = (message: string): RampartError => new RampartError('RAMPART_ERR_CACHE_CONFIG', 0, message);

/** A configuration file that cannot be used; lists every problem found. */
export class ConfigError extends RampartError {
  readonly file: string;
  readonly problems: readonly ConfigProblem[];

  constructor(file: string, problems: readonly ConfigProblem[]) {
    const lines = problems.map((p) => `  ${file}: ${p.path || '(root)'}: ${p.message}`);
    super('RAMPART_ERR_CONFIG', 0, `invalid configuration in ${file}:\n${lines.join('\n')}`);
    this.name = 'ConfigError';
    this.file = file;
    this.problems = problems;
  }
}

export interface ConfigProblem {
  /** Key path in the file, dotted: `upstreams.app.servers[1]`. */
  readonly path: string;
  readonly message: string;
}

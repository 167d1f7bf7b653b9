// One request/response exchange with one upstream server over a pooled
// keep-alive connection: writes the re-serialised request, streams the body
// with back-pressure, parses and streams the response back to the handler.
import type { ProxyRequest, ResponseController, ResponseHandler } from '../middleware/types.ts';
import {
  upstreamBadResponse,
  upstreamHeadersTimeout,
  upstreamIdleTimeout,
  upstreamReset,
  type RampartError,
} from '../errors.ts';
import { parseResponseHead, type ResponseHead } from '../http1/response-head.ts';
import { ChunkedDecoder, ChunkedError } from '../http1/chunked.ts';
import { serializeHead } from '../http1/forward-headers.ts';
import { latin1 } from '../http1/latin1.ts';
import type { ConnectionOwner, ConnectionPool, UpstreamConnection } from './connection-pool.ts';

const CRLFCRLF = Buffer.from('\r\n\r\n');
const MAX_RESPONSE_HEAD = 65536;
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

const BODY_NONE = 0;
const BODY_LENGTH = 1;
const BODY_CHUNKED = 2;
const BODY_UNTIL_CLOSE = 3;

export interface ExchangeTimeouts {
  readonly headersMs: number;
  readonly idleMs: number;
}

export interface ExchangeEvents {
  /** Called once when the exchange ends, however it ends. */
  onFinish(exchange: Exchange, error: RampartError | null): void;
  /**
   * Asked when the exchange fails before any response reached the handler:
   * true means the caller has taken the request over (a retry on another
   * server), so the handler does not hear of this failure.
   */
  retry?(exchange: Exchange, error: RampartError): boolean;
}

export class Exchange implements ConnectionOwner, ResponseController {
  readonly request: ProxyRequest;
  readonly #handler: ResponseHandler;
  readonly #pool: ConnectionPool;
  readonly #timeouts: ExchangeTimeouts;
  readonly #events: ExchangeEvents;
  #conn: UpstreamConnection | null = null;
  #cancelConnect: (() => void) | null = null;
  #head: Buffer | null = null;
  #response: ResponseHead | null = null;
  #bodyMode = BODY_NONE;
  #remaining = 0;
  #chunked: ChunkedDecoder | null = null;
  /** The decoder's data callback, made once per chunked response rather than once per packet. */
  #onChunkData: ((data: Buffer) => void) | null = null;
  #requestSent = false;
  #bodyStarted = false;
  #done = false;
  #aborted = false;
  #paused = false;
  #retried = false;
  bytesIn = 0;
  /** performance.now() at start and when the response head arrived (0 before). */
  startedAt = 0;
  headersAt = 0;

  constructor(request: ProxyRequest, handler: ResponseHandler, pool: ConnectionPool, timeouts: ExchangeTimeouts, events: ExchangeEvents) {
    this.request = request;
    this.#handler = handler;
    this.#pool = pool;
    this.#timeouts = timeouts;
    this.#events = events;
  }

  get aborted(): boolean {
    return this.#aborted;
  }

  /** Any byte of the request body was written upstream: the request can no longer be retried. */
  get bodyStreamed(): boolean {
    return this.#bodyStarted;
  }

  /** Status of the response head, 0 before it arrived. */
  get status(): number {
    return this.#response?.status ?? 0;
  }

  /** Who hears about this exchange (a retry hands the same handler on). */
  get handler(): ResponseHandler {
    return this.#handler;
  }

  /** The upstream server's URL. */
  get server(): string {
    return this.#pool.server.url;
  }

  start(): void {
    this.startedAt = performance.now();
    this.#handler.onRequestStart(this);
    if (this.#done) return;
    const idle = this.#pool.takeIdle();
    if (idle) this.#onConnection(idle);
    else this.#connectFresh();
  }

  #connectFresh(): void {
    this.#cancelConnect = this.#pool.connect((error, conn) => {
      this.#cancelConnect = null;
      if (error) this.#fail(error);
      else if (conn) this.#onConnection(conn);
    });
  }

  #onConnection(conn: UpstreamConnection): void {
    if (this.#done) {
      this.#pool.release(conn);
      return;
    }
    this.#conn = conn;
    conn.owner = this;
    conn.uses++;
    const req = this.request;
    const socket = conn.socket;
    conn.setInactivityTimeout(this.#timeouts.headersMs);
    const head = serializeHead(`${req.method} ${req.target} HTTP/1.1`, withHost(req));
    const body = req.body;
    if (body === null) {
      socket.write(head, 'latin1');
      this.#requestSent = true;
      return;
    }
    socket.write(head, 'latin1');
    const chunked = body.length === null;
    this.#bodyStarted = true;
    body.pipe({
      write: (chunk) => {
        if (this.#done || this.#conn !== conn) return true;
        if (!chunked) return socket.write(chunk);
        socket.cork();
        socket.write(chunk.length.toString(16) + '\r\n', 'latin1');
        socket.write(chunk);
        const ok = socket.write('\r\n', 'latin1');
        socket.uncork();
        return ok;
      },
      end: () => {
        if (this.#done || this.#conn !== conn) return;
        if (chunked) socket.write('0\r\n\r\n', 'latin1');
        this.#requestSent = true;
      },
      error: (err) => this.abort(err),
    });
  }

  onDrain(): void {
    if (!this.#requestSent && this.request.body) this.request.body.resume();
  }

  onData(chunk: Buffer): void {
    if (this.#done) return;
    this.bytesIn += chunk.length;
    if (this.#response === null) {
      const buf = this.#head === null ? chunk : Buffer.concat([this.#head, chunk]);
      const end = buf.indexOf(CRLFCRLF);
      if (end === -1) {
        if (buf.length > MAX_RESPONSE_HEAD) this.#fail(upstreamBadResponse(this.#pool.server.url, 'response head too large'));
        else this.#head = buf;
        return;
      }
      this.#head = null;
      const parsed = parseResponseHead(latin1(buf, 0, end));
      if (typeof parsed === 'string') {
        this.#fail(upstreamBadResponse(this.#pool.server.url, parsed));
        return;
      }
      const rest = buf.subarray(end + 4);
      if (parsed.status < 200) {
        this.#informational(parsed, rest);
        return;
      }
      this.#startResponse(parsed);
      if (this.#done) return;
      // Bytes after a body-less response belong to no request: the
      // connection is out of step and must not be reused.
      if (this.#bodyMode === BODY_NONE) {
        this.#complete(rest.length > 0);
        return;
      }
      if (rest.length === 0) return;
      chunk = rest;
    }
    this.#body(chunk);
  }

  #informational(head: ResponseHead, rest: Buffer): void {
    if (head.status === 101) {
      if (!this.request.upgrade) {
        this.#fail(upstreamBadResponse(this.#pool.server.url, '101 without an upgrade request'));
        return;
      }
      const conn = this.#conn!;
      this.#done = true;
      conn.owner = null;
      conn.socket.setTimeout(0);
      conn.socket.removeAllListeners('data');
      conn.socket.removeAllListeners('end');
      conn.socket.removeAllListeners('timeout');
      conn.socket.removeAllListeners('drain');
      this.#events.onFinish(this, null);
      this.#handler.onUpgrade(this, 101, head.headers, conn.socket, rest);
      return;
    }
    // 100 Continue and 103 Early Hints are consumed: the gateway already
    // answered Expect itself, and hints are optional (RFC 8297).
    if (rest.length > 0) this.onData(rest);
  }

  #startResponse(head: ResponseHead): void {
    this.#response = head;
    this.headersAt = performance.now();
    const status = head.status;
    if (this.request.method === 'HEAD' || status === 204 || status === 304) this.#bodyMode = BODY_NONE;
    else if (head.chunked) {
      this.#bodyMode = BODY_CHUNKED;
      this.#chunked = new ChunkedDecoder();
      this.#onChunkData = (data) => {
        if (!this.#done) this.#handler.onResponseData(this, data);
      };
    } else if (head.contentLength >= 0) {
      this.#bodyMode = head.contentLength === 0 ? BODY_NONE : BODY_LENGTH;
      this.#remaining = head.contentLength;
    } else this.#bodyMode = BODY_UNTIL_CLOSE;
    this.#conn!.setInactivityTimeout(this.#timeouts.idleMs);
    this.#handler.onResponseStart(this, status, head.headers, head.reason);
  }

  #body(chunk: Buffer): void {
    switch (this.#bodyMode) {
      case BODY_LENGTH: {
        if (chunk.length <= this.#remaining) {
          this.#remaining -= chunk.length;
          this.#handler.onResponseData(this, chunk);
          if (this.#remaining === 0 && !this.#done) this.#complete(false);
        } else {
          this.#handler.onResponseData(this, chunk.subarray(0, this.#remaining));
          this.#remaining = 0;
          if (!this.#done) this.#complete(true);
        }
        return;
      }
      case BODY_CHUNKED: {
        const decoder = this.#chunked!;
        let used: number;
        try {
          used = decoder.push(chunk, 0, this.#onChunkData!);
        } catch (err) {
          if (err instanceof ChunkedError) this.#fail(upstreamBadResponse(this.#pool.server.url, err.message));
          else throw err;
          return;
        }
        if (decoder.done && !this.#done) this.#complete(used < chunk.length);
        return;
      }
      case BODY_UNTIL_CLOSE:
        this.#handler.onResponseData(this, chunk);
        return;
      case BODY_NONE:
        // Bytes after a body-less response: the connection is out of step.
        this.#conn?.socket.destroy();
        return;
      default:
        return;
    }
  }

  /** The response is complete; `dirty`: the server sent more than the response. */
  #complete(dirty: boolean): void {
    this.#done = true;
    const conn = this.#conn;
    this.#conn = null;
    if (conn) {
      if (!dirty && this.#requestSent && this.#response!.keepAlive) {
        if (this.#paused) conn.socket.resume();
        this.#pool.release(conn);
      } else {
        conn.owner = null;
        conn.socket.destroy();
      }
    }
    this.#events.onFinish(this, null);
    this.#handler.onResponseEnd(this);
  }

  onEnd(): void {
    if (this.#done) return;
    if (this.#response !== null && this.#bodyMode === BODY_UNTIL_CLOSE) {
      this.#complete(true);
      return;
    }
    this.#lost(undefined);
  }

  onClose(error: Error | undefined): void {
    if (this.#done) return;
    if (this.#response !== null && this.#bodyMode === BODY_UNTIL_CLOSE && !error) {
      this.#conn = null;
      this.#complete(true);
      return;
    }
    this.#lost(error);
  }

  #lost(error: Error | undefined): void {
    const conn = this.#conn;
    // A kept-alive connection the server closed just as this request went out
    // (the keep-alive race): nothing was processed, so one retry on a fresh
    // connection is safe for a request whose body was not streamed.
    if (conn && conn.uses > 1 && this.#response === null && this.#head === null && !this.#retried && !this.#bodyStarted && IDEMPOTENT.has(this.request.method)) {
      this.#retried = true;
      conn.owner = null;
      conn.socket.destroy();
      this.#conn = null;
      this.#connectFresh();
      return;
    }
    this.#fail(upstreamReset(this.#pool.server.url, error));
  }

  onTimeout(): void {
    if (this.#done) return;
    if (this.#response === null) this.#fail(upstreamHeadersTimeout(this.#pool.server.url, this.#timeouts.headersMs));
    else this.#fail(upstreamIdleTimeout(this.#pool.server.url, this.#timeouts.idleMs));
  }

  #fail(error: RampartError): void {
    if (this.#done) return;
    this.#teardown();
    this.#events.onFinish(this, error);
    if (this.#response === null && this.#events.retry?.(this, error)) return;
    this.#handler.onResponseError(this, error);
  }

  #teardown(): void {
    this.#done = true;
    this.#cancelConnect?.();
    this.#cancelConnect = null;
    const conn = this.#conn;
    this.#conn = null;
    if (conn) {
      conn.owner = null;
      conn.socket.destroy();
    }
  }

  // ResponseController
  pause(): void {
    if (this.#paused || this.#done) return;
    this.#paused = true;
    this.#conn?.socket.pause();
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#conn?.socket.resume();
  }

  abort(reason: RampartError): void {
    if (this.#done) return;
    this.#aborted = true;
    this.#teardown();
    this.#events.onFinish(this, reason);
  }
}

function withHost(req: ProxyRequest): string[] {
  // The client's Host goes upstream unchanged, as nginx's `proxy_set_header
  // Host $host` and Envoy do: apps build absolute URLs from it.
  const headers = req.headers;
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === 'host') return headers;
  return ['host', req.host, ...headers];
}

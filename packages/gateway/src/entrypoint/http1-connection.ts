// One client connection speaking HTTP/1.1: reads request heads and bodies,
// hands each request to its route's dispatch chain, and writes the response
// back with framing chosen for this client. Requests on a connection are
// served one at a time; pipelined bytes wait in the buffer (socket paused).
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import { BadRequestError, clientAborted, clientStalled, noRoute, RampartError } from '../errors.ts';
import { parseRequestHead, type RequestHead } from '../http1/request-head.ts';
import { ChunkedDecoder, ChunkedError } from '../http1/chunked.ts';
import { requestHeadersForUpstream, responseHeadersForClient, serializeHead, clientAddress } from '../http1/forward-headers.ts';
import { normalizeTarget } from '../http1/path.ts';
import { latin1 } from '../http1/latin1.ts';
import { STATUS_TEXT } from '../http1/status-text.ts';
import type { BodySink, HeaderList, ProxyRequest, RequestBody, ResponseController, ResponseHandler } from '../middleware/types.ts';
import type { CompiledRoute } from '../router/router.ts';
import type { EntrypointContext } from './context.ts';

const CRLFCRLF = Buffer.from('\r\n\r\n');
const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';
/** Body bytes buffered before the upstream asks for them; past this the client is paused. */
const PENDING_BODY_LIMIT = 65536;

const NO_CONTROLLER: ResponseController = { pause() {}, resume() {}, abort() {}, aborted: false };

export interface RequestRecord {
  method: string;
  target: string;
  host: string;
  remote: string;
  route: string | null;
  server: string | null;
  status: number;
  bytesIn: number;
  bytesOut: number;
  /** performance.now() at the request head. */
  startedAt: number;
  /** performance.now() at the response head; 0 before. */
  headersAt: number;
  error: RampartError | null;
}

export class Http1Connection implements ResponseHandler {
  readonly socket: net.Socket;
  readonly #ctx: EntrypointContext;
  readonly #remote: string;
  readonly #trusted: boolean;
  #buf: Buffer | null = null;
  #scanFrom = 0;
  #headTimer: NodeJS.Timeout | null = null;
  #served = 0;
  #closing = false;
  /** The socket timeout was changed from keepAliveTimeout for a body or tunnel. */
  #timeoutChanged = false;
  #closed = false;

  // The request being served.
  #active = false;
  #head: RequestHead | null = null;
  #record: RequestRecord | null = null;
  #controller: ResponseController = NO_CONTROLLER;
  #body: ClientBody | null = null;
  #responseStarted = false;
  #responseChunked = false;
  #noBody = false;
  #keepAlive = false;
  /** The request as dispatched: a retry updates which server took it. */
  #request: ProxyRequest | null = null;

  constructor(socket: net.Socket, ctx: EntrypointContext) {
    this.socket = socket;
    this.#ctx = ctx;
    this.#remote = clientAddress(socket.remoteAddress ?? '');
    this.#trusted = ctx.isTrustedProxy(this.#remote);
    socket.setNoDelay(true);
    socket.setTimeout(ctx.config().limits.keepAliveTimeoutMs);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('timeout', () => this.#onTimeout());
    socket.on('drain', () => this.#controller.resume());
    socket.on('error', () => {
      // 'close' follows; a client reset is not the gateway's error.
    });
    socket.on('end', () => {
      // The server is not half-open (allowHalfOpen false, as nginx and
      // node:http): a client that shuts its write side has abandoned the
      // exchange, and Node ends ours too. Mid-request, 'close' follows and
      // aborts the upstream request (499).
      if (!this.#active) socket.destroy();
    });
    socket.on('close', () => this.#onClose());
  }

  /** Idle between requests: nothing buffered, nothing in flight. */
  get idle(): boolean {
    return !this.#active && (this.#buf === null || this.#buf.length === 0);
  }

  /** Graceful shutdown: close now if idle, else after the current response. */
  closeGracefully(): void {
    this.#closing = true;
    if (this.idle) this.socket.destroy();
  }

  #onData(chunk: Buffer): void {
    // After the last response (or a refusal) the connection only waits for
    // its output to flush: what the client still sends (the rest of a refused
    // body, a request after `Connection: close`) must not be parsed as a request.
    if (this.#closed) return;
    if (this.#active) {
      if (this.#body !== null && !this.#body.complete) {
        this.#feedBody(chunk, 0);
        return;
      }
      // Pipelined: keep it for after this response, and stop reading.
      this.#buf = this.#buf === null ? chunk : Buffer.concat([this.#buf, chunk]);
      this.socket.pause();
      return;
    }
    this.#buf = this.#buf === null ? chunk : Buffer.concat([this.#buf, chunk]);
    this.#parseNext();
  }

  #parseNext(): void {
    const limits = this.#ctx.config().limits;
    let buf = this.#buf;
    if (buf === null) return;
    // RFC 9112 §2.2: empty lines before a request line are ignored.
    let start = 0;
    while (start + 1 < buf.length && buf[start] === 13 && buf[start + 1] === 10) start += 2;
    if (start > 0) {
      buf = start === buf.length ? null : buf.subarray(start);
      this.#buf = buf;
      this.#scanFrom = 0;
      if (buf === null) return;
    }
    const end = buf.indexOf(CRLFCRLF, this.#scanFrom);
    if (end === -1) {
      // Up to 3 bytes of the final CRLFCRLF may already be here: they do not
      // count against the limit, or the verdict would depend on packet splits.
      if (buf.length - 3 > limits.maxHeaderBytes) return this.#reject(new BadRequestError('request head too large', 431));
      if (hasBareLineEnd(buf, this.#scanFrom)) return this.#reject(new BadRequestError('bare CR or LF in request head'));
      this.#scanFrom = Math.max(0, buf.length - 3);
      if (this.#headTimer === null) {
        this.#headTimer = setTimeout(() => this.#reject(new BadRequestError('request head not received in time', 408)), limits.headersTimeoutMs);
      }
      return;
    }
    if (this.#headTimer !== null) {
      clearTimeout(this.#headTimer);
      this.#headTimer = null;
    }
    this.#scanFrom = 0;
    if (end > limits.maxHeaderBytes) return this.#reject(new BadRequestError('request head too large', 431));
    let head: RequestHead;
    try {
      // A bare LF inside the head lands in a field value or the request
      // line, where the parser refuses control characters.
      head = parseRequestHead(latin1(buf, 0, end), limits.maxHeaders);
    } catch (err) {
      if (err instanceof BadRequestError) return this.#reject(err);
      throw err;
    }
    const rest = end + 4 < buf.length ? buf.subarray(end + 4) : null;
    this.#buf = null;
    this.#start(head, rest);
  }

  #start(head: RequestHead, rest: Buffer | null): void {
    const ctx = this.#ctx;
    const config = ctx.config();
    this.#active = true;
    this.#served++;
    this.#head = head;
    this.#responseStarted = false;
    this.#controller = NO_CONTROLLER;
    // Set before any answer, the gateway's own errors included: a body on a
    // HEAD response would be read as the next response.
    this.#noBody = head.method === 'HEAD';
    // The keep-alive inactivity timer stays armed through the request (I/O
    // refreshes it); #onTimeout knows what a timeout means in each phase.
    const target = head.target === '*' ? '*' : normalizeTarget(head.target);
    const record: RequestRecord = {
      method: head.method,
      target,
      host: head.host,
      remote: this.#remote,
      route: null,
      server: null,
      status: 0,
      bytesIn: 0,
      bytesOut: 0,
      startedAt: performance.now(),
      headersAt: 0,
      error: null,
    };
    this.#record = record;
    this.#keepAlive =
      head.keepAlive && !this.#closing && !ctx.shuttingDown() && (config.limits.maxRequestsPerConnection === 0 || this.#served < config.limits.maxRequestsPerConnection);
    ctx.onRequestStart();

    const hasBody = head.chunked || head.contentLength > 0;
    // Anything after a body-less head is the next pipelined request; keep it
    // before any answer below, which may finish this request at once.
    if (!hasBody && rest !== null) {
      this.#buf = rest;
      this.socket.pause();
    }
    const route: CompiledRoute | null = ctx.router().match(head.host, target);
    if (route === null) {
      if (hasBody) this.#keepAlive = false;
      this.#respondError(noRoute());
      return;
    }
    record.route = route.config.label;
    if (head.contentLength > route.config.maxBodyBytes) {
      this.#keepAlive = false;
      this.#respondError(new BadRequestError(`request body larger than ${route.config.maxBodyBytes} bytes`, 413));
      return;
    }
    let body: ClientBody | null = null;
    if (hasBody) {
      body = new ClientBody(this, head.chunked ? null : head.contentLength, route.config.maxBodyBytes, head.expectContinue);
      this.#body = body;
      this.socket.setTimeout(config.limits.bodyTimeoutMs);
      this.#timeoutChanged = true;
    } else this.#body = null;
    const upgrade = head.upgrade !== null && !hasBody;
    const request: ProxyRequest = {
      method: head.method,
      target,
      host: head.host,
      headers: requestHeadersForUpstream(head.headers, head.connection, {
        remoteAddress: this.#remote,
        secure: false,
        host: head.host,
        trusted: this.#trusted,
        upgrade,
        chunked: head.chunked,
      }),
      body,
      upgrade,
      remoteAddress: this.#remote,
      secure: false,
      route: route.config,
    };
    if (body !== null && rest !== null) {
      this.#feedBody(rest, 0);
      // The body already broke a limit (413 sent): nothing goes upstream.
      if (this.#record !== record) return;
    }
    this.#request = request;
    route.dispatch(request, this);
  }

  #feedBody(buf: Buffer, start: number): void {
    const body = this.#body!;
    let used: number;
    try {
      used = body.feed(buf, start);
    } catch (err) {
      const error = err instanceof ChunkedError ? new BadRequestError(`invalid chunked body: ${err.message}`) : err;
      if (error instanceof RampartError) this.#bodyFailed(error);
      else throw error;
      return;
    }
    if (body.complete) {
      this.socket.setTimeout(this.#ctx.config().limits.keepAliveTimeoutMs);
      if (used < buf.length) {
        this.#buf = this.#buf === null ? buf.subarray(used) : Buffer.concat([this.#buf, buf.subarray(used)]);
        this.socket.pause();
      }
    }
  }

  /** The client's body broke a rule mid-stream: answer if we still can, and close. */
  #bodyFailed(error: RampartError): void {
    this.#keepAlive = false;
    this.#body?.fail(error);
    this.#controller.abort(error);
    if (!this.#responseStarted) this.#respondError(error);
    else this.socket.destroy();
  }

  #onTimeout(): void {
    if (!this.#active) {
      this.socket.destroy();
      return;
    }
    if (this.#body !== null && !this.#body.complete) {
      this.#bodyFailed(new BadRequestError('request body not received in time', 408));
      return;
    }
    // A client that stopped reading its response (nginx's send_timeout):
    // cut it, and say so, rather than let the upstream's idle timer fire and
    // blame the server.
    if (this.#responseStarted && this.socket.writableLength > 0) {
      this.#record!.error = clientStalled();
      this.#controller.abort(clientStalled());
      this.#keepAlive = false;
      this.#finish();
      this.socket.destroy();
    }
    // Otherwise the request waits on the upstream, whose own timeouts bound it.
  }

  #reject(error: BadRequestError): void {
    if (this.#headTimer !== null) {
      clearTimeout(this.#headTimer);
      this.#headTimer = null;
    }
    this.#ctx.onRejected(error, this.#remote);
    this.#buf = null;
    // Framing errors leave the byte stream in an unknown state: answer, then close.
    if (!this.socket.writable) {
      this.socket.destroy();
      return;
    }
    const text = `${error.status} ${STATUS_TEXT[error.status] ?? 'Error'}: ${error.publicMessage}\n`;
    this.socket.end(
      `HTTP/1.1 ${error.status} ${STATUS_TEXT[error.status] ?? 'Error'}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`,
      'latin1',
    );
    this.#closed = true;
    this.socket.destroySoon();
  }

  /** An error response generated by the gateway itself, before any upstream byte. */
  #respondError(error: RampartError): void {
    const record = this.#record!;
    record.error = error;
    const text = `${error.status} ${STATUS_TEXT[error.status] ?? 'Error'}: ${error.publicMessage}\n`;
    const body = Buffer.from(text);
    const headers = ['content-type', 'text/plain; charset=utf-8', 'x-content-type-options', 'nosniff', 'content-length', String(body.length)];
    if (error.responseHeaders.length > 0) headers.push(...error.responseHeaders);
    this.onResponseStart(NO_CONTROLLER, error.status, headers, '');
    // No upstream answered: the log's upstreamMs stays empty.
    record.headersAt = 0;
    this.onResponseData(NO_CONTROLLER, body);
    this.onResponseEnd(NO_CONTROLLER);
  }

  // ---- ResponseHandler: the dispatch chain answers through these. ----

  onRequestStart(controller: ResponseController): void {
    this.#controller = controller;
  }

  onResponseStart(controller: ResponseController, status: number, headers: HeaderList, reason: string): void {
    if (this.#closed || this.#responseStarted) return;
    this.#controller = controller;
    this.#responseStarted = true;
    const record = this.#record!;
    record.status = status;
    record.headersAt = performance.now();
    const head = this.#head!;
    let contentLength: string | null = null;
    let upstreamChunked = false;
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i]!;
      if (name === 'content-length') contentLength = headers[i + 1]!;
      else if (name === 'transfer-encoding') upstreamChunked = true;
    }
    if (upstreamChunked) contentLength = null;
    const out = responseHeadersForClient(headers, false);
    const bodyless = this.#noBody || status === 204 || status === 304 || status < 200;
    this.#responseChunked = false;
    if (contentLength !== null && (status !== 204 && status >= 200)) out.push('content-length', contentLength);
    else if (!bodyless) {
      if (head.minor === 1) {
        out.push('transfer-encoding', 'chunked');
        this.#responseChunked = true;
      } else this.#keepAlive = false;
    }
    // A request body not yet read when the response starts is abandoned, and
    // with it the connection: the unread bytes cannot be told from a next request.
    if (this.#body !== null && !this.#body.complete) this.#keepAlive = false;
    // Shutdown or a drain that began while this request ran: say the
    // connection closes (RFC 9112 §9.6) rather than just closing it.
    if (this.#keepAlive && (this.#closing || this.#ctx.shuttingDown())) this.#keepAlive = false;
    if (!this.#keepAlive) out.push('connection', 'close');
    else if (head.minor === 0) out.push('connection', 'keep-alive');
    const text = reason !== '' && /^[\t\x20-\x7e]*$/.test(reason) ? reason : (STATUS_TEXT[status] ?? 'Unknown');
    this.socket.cork();
    this.socket.write(serializeHead(`HTTP/1.1 ${status} ${text}`, out), 'latin1');
    process.nextTick(uncork, this.socket);
  }

  onResponseData(controller: ResponseController, chunk: Buffer): void {
    if (this.#closed || this.#noBody || chunk.length === 0) return;
    this.#record!.bytesOut += chunk.length;
    let ok: boolean;
    if (this.#responseChunked) {
      this.socket.cork();
      this.socket.write(chunk.length.toString(16) + '\r\n', 'latin1');
      this.socket.write(chunk);
      ok = this.socket.write('\r\n', 'latin1');
      process.nextTick(uncork, this.socket);
    } else ok = this.socket.write(chunk);
    if (!ok) controller.pause();
  }

  onResponseEnd(_controller: ResponseController): void {
    if (this.#closed) return;
    if (this.#responseChunked && !this.#noBody) this.socket.write('0\r\n\r\n', 'latin1');
    this.#finish();
  }

  onResponseError(controller: ResponseController, error: RampartError): void {
    if (this.#closed) return;
    this.#controller = controller;
    if (!this.#responseStarted) {
      this.#respondError(error);
      return;
    }
    // Mid-response the only honest signal left is to cut the connection.
    this.#record!.error = error;
    this.#keepAlive = false;
    this.#finish();
    this.socket.destroy();
  }

  onUpgrade(_controller: ResponseController, status: number, headers: HeaderList, upstream: Duplex, head: Buffer): void {
    const record = this.#record!;
    record.status = status;
    record.headersAt = performance.now();
    record.server = this.#request?.server ?? null;
    const out = responseHeadersForClient(headers, true);
    out.push('connection', 'upgrade');
    const socket = this.socket;
    socket.removeAllListeners('data');
    socket.removeAllListeners('timeout');
    socket.removeAllListeners('drain');
    socket.removeAllListeners('end');
    socket.setTimeout(0);
    socket.write(serializeHead(`HTTP/1.1 101 Switching Protocols`, out), 'latin1');
    if (head.length > 0) socket.write(head);
    if (this.#buf !== null) {
      upstream.write(this.#buf);
      this.#buf = null;
    }
    this.#ctx.onRequestDone(record);
    this.#active = false;
    this.#ctx.onTunnelOpen(this);
    upstream.on('error', () => socket.destroy());
    upstream.on('close', () => socket.destroy());
    socket.on('close', () => upstream.destroy());
    socket.pipe(upstream);
    upstream.pipe(socket);
    socket.resume();
    upstream.resume();
  }

  #finish(): void {
    const record = this.#record!;
    if (this.#request !== null) {
      record.server = this.#request.server ?? null;
      this.#request = null;
    }
    this.#active = false;
    this.#record = null;
    this.#head = null;
    this.#controller = NO_CONTROLLER;
    if (this.#body !== null) record.bytesIn = this.#body.received;
    this.#body = null;
    this.#ctx.onRequestDone(record);
    if (!this.#keepAlive || this.#closing) {
      this.#closed = true;
      this.socket.end();
      this.socket.destroySoon();
      return;
    }
    if (this.#timeoutChanged) {
      this.#timeoutChanged = false;
      this.socket.setTimeout(this.#ctx.config().limits.keepAliveTimeoutMs);
    }
    if (this.#buf !== null) {
      // Serve the pipelined request on the next tick so a burst of them cannot
      // starve other connections.
      setImmediate(() => {
        if (!this.#closed && !this.#active) {
          this.#parseNext();
          if (!this.#active && !this.#closed) this.socket.resume();
        }
      });
    } else this.socket.resume();
  }

  #onClose(): void {
    if (this.#headTimer !== null) clearTimeout(this.#headTimer);
    this.#closed = true;
    if (this.#active) {
      const error = clientAborted();
      this.#body?.fail(error);
      this.#controller.abort(error);
      const record = this.#record!;
      record.error = error;
      record.server = this.#request?.server ?? null;
      if (record.status === 0) record.status = 499;
      this.#active = false;
      this.#ctx.onRequestDone(record);
    }
    this.#ctx.onConnectionClose(this);
  }

  /** Body bytes went upstream or were buffered; count them and enforce the limit. */
  bodyOverflow(limit: number): void {
    this.#bodyFailed(new BadRequestError(`request body larger than ${limit} bytes`, 413));
  }

  /** The upstream asked for the body: say 100 Continue if the client waits for it. */
  sendContinue(): void {
    if (!this.#responseStarted && this.socket.writable) this.socket.write(CONTINUE, 'latin1');
  }

  pauseClient(): void {
    this.socket.pause();
  }

  resumeClient(): void {
    if (this.#buf === null || this.#body !== null) this.socket.resume();
  }
}

function uncork(socket: net.Socket): void {
  socket.uncork();
}

/**
 * A LF without its CR, or a CR followed by anything but LF, can never become
 * a valid head: refuse it now instead of waiting for the head timeout.
 */
function hasBareLineEnd(buf: Buffer, from: number): boolean {
  let cr = buf.indexOf(13, from);
  while (cr !== -1 && cr + 1 < buf.length) {
    if (buf[cr + 1] !== 10) return true;
    cr = buf.indexOf(13, cr + 1);
  }
  return hasBareLf(buf, from);
}

function hasBareLf(buf: Buffer, from: number): boolean {
  let i = buf.indexOf(10, from);
  while (i !== -1) {
    if (i === 0 || buf[i - 1] !== 13) return true;
    i = buf.indexOf(10, i + 1);
  }
  return false;
}

/** The client's request body as the upstream reads it: decoded, bounded, back-pressured. */
class ClientBody implements RequestBody {
  readonly length: number | null;
  received = 0;
  complete = false;
  readonly #conn: Http1Connection;
  readonly #limit: number;
  readonly #decoder: ChunkedDecoder | null;
  #remaining: number;
  #sink: BodySink | null = null;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #expectContinue: boolean;
  #failed = false;
  readonly #deliver = (chunk: Buffer) => this.#onChunk(chunk);

  constructor(conn: Http1Connection, length: number | null, limit: number, expectContinue: boolean) {
    this.#conn = conn;
    this.length = length;
    this.#limit = limit;
    this.#remaining = length ?? 0;
    this.#decoder = length === null ? new ChunkedDecoder() : null;
    this.#expectContinue = expectContinue;
  }

  /** Consumes body bytes from `buf[start..]`; returns the index where the body ended (or buf.length). */
  feed(buf: Buffer, start: number): number {
    if (this.complete || this.#failed) return start;
    if (this.#decoder !== null) {
      const used = this.#decoder.push(buf, start, this.#deliver);
      if (this.#decoder.done) this.#finish();
      return used;
    }
    const take = Math.min(this.#remaining, buf.length - start);
    this.#remaining -= take;
    this.#onChunk(start === 0 && take === buf.length ? buf : buf.subarray(start, start + take));
    if (this.#remaining === 0) this.#finish();
    return start + take;
  }

  #onChunk(chunk: Buffer): void {
    if (this.#failed || chunk.length === 0) return;
    this.received += chunk.length;
    if (this.received > this.#limit) {
      this.#conn.bodyOverflow(this.#limit);
      return;
    }
    if (this.#sink !== null) {
      if (!this.#sink.write(chunk)) this.#conn.pauseClient();
      return;
    }
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
    if (this.#pendingBytes > PENDING_BODY_LIMIT) this.#conn.pauseClient();
  }

  #finish(): void {
    this.complete = true;
    if (this.#sink !== null) this.#sink.end();
  }

  pipe(sink: BodySink): void {
    this.#sink = sink;
    if (this.#expectContinue) {
      this.#expectContinue = false;
      if (this.received === 0) this.#conn.sendContinue();
    }
    const pending = this.#pending;
    this.#pending = [];
    this.#pendingBytes = 0;
    let ok = true;
    for (const chunk of pending) ok = sink.write(chunk) && ok;
    if (this.complete) sink.end();
    else if (ok) this.#conn.resumeClient();
    else this.#conn.pauseClient();
  }

  resume(): void {
    if (!this.complete && !this.#failed) this.#conn.resumeClient();
  }

  fail(error: RampartError): void {
    if (this.#failed || this.complete) return;
    this.#failed = true;
    this.#sink?.error(error);
  }
}

// Keep-alive connections to one server. Listeners are attached once per
// connection and route events to whichever exchange owns it, so a reused
// connection costs no listener churn per request.
import net from 'node:net';
import { upstreamConnectFailed, upstreamConnectTimeout, type RampartError } from '../errors.ts';
import type { ServerConfig, UpstreamConfig } from '../config/load.ts';

export interface ConnectionOwner {
  onData(chunk: Buffer): void;
  onEnd(): void;
  onClose(error: Error | undefined): void;
  onDrain(): void;
  onTimeout(): void;
}

export class UpstreamConnection {
  readonly socket: net.Socket;
  readonly pool: ConnectionPool;
  owner: ConnectionOwner | null = null;
  /** Requests this connection carried; > 0 means a reused connection. */
  uses = 0;
  closed = false;
  /** When it went back to the pool (performance.now()). */
  idleSince = 0;
  /** The socket's inactivity timeout now; re-arming a timer costs, so it is only changed when it differs. */
  currentTimeoutMs = 0;

  constructor(socket: net.Socket, pool: ConnectionPool) {
    this.socket = socket;
    this.pool = pool;
    socket.on('data', (chunk: Buffer) => {
      if (this.owner) this.owner.onData(chunk);
      // Bytes on an idle connection belong to no request: the stream is out of step.
      else socket.destroy();
    });
    socket.on('end', () => {
      if (this.owner) this.owner.onEnd();
      else socket.destroy();
    });
    socket.on('drain', () => this.owner?.onDrain());
    socket.on('timeout', () => {
      if (this.owner) this.owner.onTimeout();
      else socket.destroy();
    });
    socket.on('error', () => {
      // 'close' follows with hadError; the owner hears it there.
    });
    socket.on('close', () => {
      this.closed = true;
      this.pool.forget(this);
      const owner = this.owner;
      this.owner = null;
      owner?.onClose(socket.errored ?? undefined);
    });
  }

  setInactivityTimeout(ms: number): void {
    if (this.currentTimeoutMs === ms) return;
    this.currentTimeoutMs = ms;
    this.socket.setTimeout(ms);
  }
}

export type AcquireCallback = (error: RampartError | null, connection: UpstreamConnection | null) => void;

export class ConnectionPool {
  readonly server: ServerConfig;
  readonly #upstream: UpstreamConfig;
  readonly #idle: UpstreamConnection[] = [];
  #open = 0;
  #closing = false;
  #sweeper: NodeJS.Timeout | null = null;

  constructor(server: ServerConfig, upstream: UpstreamConfig) {
    this.server = server;
    this.#upstream = upstream;
  }

  get openConnections(): number {
    return this.#open;
  }

  get idleConnections(): number {
    return this.#idle.length;
  }

  /** Most recently used first: warm connections, and idle ones age out. */
  takeIdle(): UpstreamConnection | null {
    let conn = this.#idle.pop();
    while (conn && (conn.closed || conn.socket.destroyed)) conn = this.#idle.pop();
    return conn ?? null;
  }

  connect(callback: AcquireCallback): () => void {
    const { host, port } = this.server;
    const socket = net.connect({ host, port, noDelay: true });
    this.#open++;
    let settled = false;
    const timeoutMs = this.#upstream.connectTimeoutMs;
    const onTimeout = () => finish(upstreamConnectTimeout(this.server.url, timeoutMs));
    const onError = (err: Error) => finish(upstreamConnectFailed(this.server.url, err));
    const onConnect = () => finish(null);
    const finish = (error: RampartError | null) => {
      if (settled) return;
      settled = true;
      socket.setTimeout(0);
      socket.removeListener('timeout', onTimeout);
      socket.removeListener('error', onError);
      socket.removeListener('connect', onConnect);
      if (error) {
        socket.destroy();
        this.#open--;
        callback(error, null);
        return;
      }
      callback(null, new UpstreamConnection(socket, this));
    };
    socket.setTimeout(timeoutMs, onTimeout);
    socket.once('error', onError);
    socket.once('connect', onConnect);
    return () => {
      if (settled) return;
      settled = true;
      this.#open--;
      socket.destroy();
    };
  }

  release(conn: UpstreamConnection): void {
    conn.owner = null;
    if (this.#closing || conn.closed || this.#idle.length >= this.#upstream.keepAlive.maxIdle) {
      conn.socket.destroy();
      return;
    }
    // Idle expiry by a sweep rather than a per-socket timer: the socket keeps
    // the timeout of its last exchange, so a reused connection re-arms no timer.
    conn.idleSince = performance.now();
    this.#idle.push(conn);
    if (this.#sweeper === null) {
      const every = Math.max(10, Math.min(1000, this.#upstream.keepAlive.idleTimeoutMs / 2));
      this.#sweeper = setInterval(() => this.#sweep(), every);
      this.#sweeper.unref();
    }
  }

  #sweep(): void {
    const oldest = performance.now() - this.#upstream.keepAlive.idleTimeoutMs;
    // The idle list is oldest-first: stop at the first connection still fresh.
    while (this.#idle.length > 0 && this.#idle[0]!.idleSince <= oldest) this.#idle.shift()!.socket.destroy();
    if (this.#idle.length === 0 && this.#sweeper !== null) {
      clearInterval(this.#sweeper);
      this.#sweeper = null;
    }
  }

  forget(conn: UpstreamConnection): void {
    this.#open--;
    const i = this.#idle.indexOf(conn);
    if (i !== -1) this.#idle.splice(i, 1);
  }

  close(): void {
    this.#closing = true;
    if (this.#sweeper !== null) clearInterval(this.#sweeper);
    this.#sweeper = null;
    for (const conn of this.#idle.splice(0)) conn.socket.destroy();
  }
}

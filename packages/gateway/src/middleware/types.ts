// The middleware contract, frozen early on purpose (undici's users suffered
// when its handler API changed): a middleware wraps the next dispatch, the way
// undici interceptors do — `(next) => (request, handler) => void` — so it can
// answer by itself (shield, cache hit), change the request, or wrap the
// handler to see or rewrite the response (cache store, header rules).
import type { TSchema } from '@sinclair/typebox';
import type { RampartError } from '../errors.ts';
import type { RouteConfig } from '../config/load.ts';
import type { Logger } from '../observability/log.ts';
import type { Duplex } from 'node:stream';

/** Header fields as a flat list: [name, value, name, value, …]; names lower-case. */
export type HeaderList = string[];

/** Streams a request body to whoever dispatches the request upstream. */
export interface RequestBody {
  /** Content-Length, or null when the client sent chunked. */
  readonly length: number | null;
  /**
   * Starts delivery. `sink.write` returning false pauses the body until
   * `resume()`; `end` or `error` is called exactly once.
   */
  pipe(sink: BodySink): void;
  resume(): void;
}

export interface BodySink {
  write(chunk: Buffer): boolean;
  end(): void;
  error(err: RampartError): void;
}

export interface ProxyRequest {
  method: string;
  /** origin-form: path and query, as the client sent them. */
  target: string;
  /** The Host the client addressed (authority), lower-case. */
  host: string;
  /** Headers to send upstream: hop-by-hop removed, forwarding headers set. */
  headers: HeaderList;
  body: RequestBody | null;
  /** The client asked to switch protocols (WebSocket). */
  readonly upgrade: boolean;
  readonly remoteAddress: string;
  readonly secure: boolean;
  readonly route: RouteConfig;
  /** Filled in by the balancer: which server took the request. */
  server?: string;
  /** Retries so far (set by the upstream when it retries on another server). */
  attempts?: number;
}

export interface ResponseController {
  pause(): void;
  resume(): void;
  abort(reason: RampartError): void;
  readonly aborted: boolean;
}

export interface ResponseHandler {
  /** The controller can abort the exchange at any time (client gone). */
  onRequestStart(controller: ResponseController): void;
  onResponseStart(controller: ResponseController, status: number, headers: HeaderList, reason: string): void;
  onResponseData(controller: ResponseController, chunk: Buffer): void;
  onResponseEnd(controller: ResponseController): void;
  onResponseError(controller: ResponseController, error: RampartError): void;
  /** 101 Switching Protocols: the upstream socket is handed over as a tunnel. */
  onUpgrade(controller: ResponseController, status: number, headers: HeaderList, socket: Duplex, head: Buffer): void;
}

export type Dispatch = (request: ProxyRequest, handler: ResponseHandler) => void;
export type Middleware = (next: Dispatch) => Dispatch;

export interface MiddlewareContext {
  readonly route: RouteConfig;
  readonly logger: Logger;
}

/**
 * One middleware module: its name in config, its options schema, its factory.
 * Lifecycle as in Caddy's modules: the loader checks `options` against the
 * schema (filling defaults), then calls `validate` for rules a schema cannot
 * say; only options that pass both reach `create`, when the chain is built.
 */
export interface MiddlewareFactory<Options = unknown> {
  readonly name: string;
  /** Also documents the options: docs/config.md and the editor schema are rendered from it. */
  readonly options: TSchema;
  validate?(options: Options): readonly MiddlewareProblem[];
  create(options: Options, context: MiddlewareContext): Middleware;
}

/** A rule broken by a middleware's options; `path` is relative to the options. */
export interface MiddlewareProblem {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

export interface MiddlewareSpec {
  readonly name: string;
  readonly options: unknown;
}

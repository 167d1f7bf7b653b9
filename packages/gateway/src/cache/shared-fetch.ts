// One upstream request made by the cache, and the clients it answers: the
// one whose request went upstream (the leader) and those that joined it
// (coalesced waiters). The body is passed to every client as it arrives and,
// when the response may be stored, gathered for the store at the same time:
// nobody waits for the whole body. Clients come and go independently; the
// upstream is paused while any client's socket is full, and aborted only
// when nobody is left to receive the response and it is not being stored.
import type { RampartError } from '../errors.ts';
import { clientAborted, upstreamBadResponse } from '../errors.ts';
import type { Dispatch, HeaderList, ResponseController, ResponseHandler } from '../middleware/types.ts';
import type { RequestDirectives } from './cache-control.ts';
import { forwardStatus, type Forward } from './cache-status.ts';
import type { Coalescer } from './coalescer.ts';
import type { Freshness } from './freshness.ts';
import type { RequestFacts } from './request-facts.ts';
import type { ResponseFields } from './response-fields.ts';
import type { StoredResponse } from './store.ts';
import type { ProxyRequest } from '../middleware/types.ts';
import type { Duplex } from 'node:stream';

/** A request on a cached route, with what the cache has worked out about it. */
export interface CacheRequest {
  readonly request: ProxyRequest;
  readonly handler: ResponseHandler;
  readonly facts: RequestFacts;
  readonly cc: RequestDirectives;
  /** Resource key (store.ts). */
  readonly uri: string;
  /** The route's secondary key (chosen headers and cookies). */
  readonly keyPart: string;
  /** Coalescing key: the resource and the route's secondary key. */
  readonly key: string;
}

/** A stored response a request may fall back to, with its freshness. */
export interface Candidate {
  readonly entry: StoredResponse;
  readonly f: Freshness;
}

/** What the cache will store once the body is complete. */
export interface StorePlan {
  readonly f: Freshness;
  readonly headers: HeaderList;
  readonly vary: readonly string[];
  readonly variant: string;
  readonly tags: readonly string[];
  readonly removeAt: number;
}

/** What a SharedFetch asks of the cache layer that started it. */
export interface FetchOwner {
  readonly coalescer: Coalescer;
  now(): number;
  readonly maxObjectBytes: number;
  fields(headers: HeaderList, responseTime: number): ResponseFields;
  /** The storage plan for this response, or why it is not stored (a Cache-Status detail). */
  plan(fetch: SharedFetch, status: number, fields: ResponseFields): StorePlan | string;
  /** Whether a coalesced waiter may be given this storable response (same Vary values as the leader's). */
  matches(sub: Subscriber, plan: StorePlan): boolean;
  /**
   * Sends `sub` the head of this response; false when that already answered
   * it completely (its own conditional matched: 304).
   */
  startStream(sub: Subscriber, fetch: SharedFetch, status: number, reason: string, fields: ResponseFields, plan: StorePlan | null, notStored: string | undefined): boolean;
  /**
   * Answers `sub` with its stale candidate after an upstream failure when a
   * rule allows it; false otherwise. `status`: the error response's status,
   * when the failure was one (5xx) rather than no response at all.
   */
  staleOnError(sub: Subscriber, error: RampartError | null, status?: number): boolean;
  /** The error `sub` is answered with when the upstream failed before its head and no stale response was allowed. */
  errorFor(sub: Subscriber, error: RampartError): RampartError;
  /** The upstream confirmed the candidate (304): refresh it and answer these clients. */
  notModified(fetch: SharedFetch, headers: HeaderList, subs: readonly Subscriber[]): void;
  /** `sub` cannot use this response: it goes upstream itself. */
  redispatch(sub: Subscriber): void;
  store(fetch: SharedFetch, plan: StorePlan, body: Buffer): void;
  /** A response was not storable for a reason of its own: later requests should not wait on the key. */
  uncacheable(fetch: SharedFetch, status: number, reason: string): void;
}

const WAITING = 0;
const STREAMING = 1;
const DONE = 2;

/** One client of a SharedFetch; the controller its connection pauses, resumes and aborts. */
export class Subscriber implements ResponseController {
  readonly req: CacheRequest;
  /** What it may fall back to when the upstream fails, and what a 304 refreshes. */
  stale: Candidate | null = null;
  fwd: Forward = 'uri-miss';
  collapsed = false;
  /** Its revalidation got a 304 that matched nothing stored (§4.3.4): the next request goes without validators. */
  unconditional = false;
  fetch: SharedFetch | null = null;
  paused = false;
  /** Its response has begun (or it was answered otherwise). */
  started = false;
  #aborted = false;

  constructor(req: CacheRequest) {
    this.req = req;
  }

  get aborted(): boolean {
    return this.#aborted;
  }

  pause(): void {
    if (this.paused || this.#aborted) return;
    this.paused = true;
    this.fetch?.pauseFor(this);
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.fetch?.resumeFor(this);
  }

  abort(_reason: RampartError): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.fetch?.leave(this);
  }
}

export class SharedFetch implements ResponseHandler {
  readonly uri: string;
  /** Whose request goes upstream: its headers decide Vary and what may be stored. */
  readonly origin: CacheRequest;
  readonly #owner: FetchOwner;
  /** Registered for coalescing under this key, or null. */
  readonly #key: string | null;
  /** The stored response being revalidated (conditional request), or null. */
  readonly revalidating: Candidate | null;
  /** stale-while-revalidate refresh: nobody waits, and it runs to the end. */
  readonly #background: boolean;
  readonly leader: Subscriber | null;
  #subs: Subscriber[] = [];
  #upstream: ResponseController | null = null;
  #paused = 0;
  #phase = WAITING;
  #plan: StorePlan | null = null;
  #fields: ResponseFields | null = null;
  #status = 0;
  #reason = '';
  #notStored: string | undefined;
  #chunks: Buffer[] = [];
  #bytes = 0;
  #invalidated = false;
  requestTime = 0;
  responseTime = 0;

  constructor(owner: FetchOwner, origin: CacheRequest, options: { key: string | null; revalidating: Candidate | null; leader: Subscriber | null }) {
    this.#owner = owner;
    this.origin = origin;
    this.uri = origin.uri;
    this.#key = options.key;
    this.revalidating = options.revalidating;
    this.leader = options.leader;
    this.#background = options.leader === null;
    if (options.leader !== null) this.#add(options.leader);
  }

  /** Sends the origin request upstream through `dispatch`. */
  start(dispatch: Dispatch): void {
    this.requestTime = this.#owner.now();
    const coalescer = this.#owner.coalescer;
    coalescer.track(this);
    if (this.#key !== null) coalescer.set(this.#key, this);
    dispatch(this.origin.request, this);
  }

  /** Joins a coalesced waiter; false when it must go upstream on its own. */
  join(sub: Subscriber): boolean {
    if (this.#key === null || this.#phase === DONE) return false;
    if (this.#phase === WAITING) {
      this.#add(sub);
      return true;
    }
    // Streaming: only a response being stored is shared, and only with a
    // request whose Vary values match the leader's.
    const plan = this.#plan;
    if (plan === null || !this.#owner.matches(sub, plan)) return false;
    this.#add(sub);
    if (!this.#owner.startStream(sub, this, this.#status, this.#reason, this.#fields!, plan, undefined)) {
      this.#remove(sub);
      return true;
    }
    for (const chunk of this.#chunks) {
      if (sub.aborted) break;
      sub.req.handler.onResponseData(sub, chunk);
    }
    return true;
  }

  #add(sub: Subscriber): void {
    sub.fetch = this;
    this.#subs.push(sub);
  }

  /** An unsafe request changed the resource while this fetch was out: its response is not stored. */
  invalidate(): void {
    this.#invalidated = true;
    if (this.#plan !== null) this.#stopStoring('invalidated');
  }

  get invalidated(): boolean {
    return this.#invalidated;
  }

  get background(): boolean {
    return this.#background;
  }

  /** The response's status and reason phrase (0 and '' before its head). */
  get status(): number {
    return this.#status;
  }

  get reason(): string {
    return this.#reason;
  }

  // ---- the upstream's ResponseHandler ----

  onRequestStart(controller: ResponseController): void {
    this.#upstream = controller;
  }

  onResponseStart(controller: ResponseController, status: number, headers: HeaderList, reason: string): void {
    if (this.#phase !== WAITING) return;
    this.#upstream = controller;
    this.responseTime = this.#owner.now();
    const subs = this.#subs;
    if (this.revalidating !== null && status === 304) {
      this.#phase = DONE;
      this.#unregister();
      this.#subs = [];
      this.#owner.notModified(this, headers, subs.filter((s) => !s.aborted));
      return;
    }
    const owner = this.#owner;
    const fields = owner.fields(headers, this.responseTime);
    const planned = this.#invalidated ? 'invalidated' : owner.plan(this, status, fields);
    this.#fields = fields;
    this.#status = status;
    this.#reason = reason;
    this.#phase = STREAMING;
    if (typeof planned === 'string') {
      this.#notStored = planned;
      if (this.#key !== null) owner.uncacheable(this, status, planned);
      // Nobody else may share a response that is not stored.
      this.#unregister();
    } else {
      this.#plan = planned;
      if (this.#key !== null) owner.coalescer.clearUncacheable(this.#key);
    }
    const keep: Subscriber[] = [];
    for (const sub of subs) {
      if (sub.aborted) continue;
      if (sub.stale !== null && isErrorStatus(status) && owner.staleOnError(sub, null, status)) {
        sub.fetch = null;
        continue;
      }
      if (sub === this.leader || (this.#plan !== null && owner.matches(sub, this.#plan))) {
        // Listed before its head goes out: a client that pauses at once must find itself here.
        keep.push(sub);
        this.#subs = keep;
        if (!owner.startStream(sub, this, status, reason, fields, this.#plan, this.#notStored)) {
          keep.pop();
          sub.fetch = null;
        }
        continue;
      }
      sub.fetch = null;
      owner.redispatch(sub);
    }
    this.#subs = keep.filter((s) => !s.aborted);
    if (this.#subs.length === 0 && this.#plan === null && !this.#background) this.#abandon();
  }

  onResponseData(_controller: ResponseController, chunk: Buffer): void {
    if (this.#phase !== STREAMING) return;
    if (this.#plan !== null) {
      this.#bytes += chunk.length;
      // A body without Content-Length that grows past the limit: streamed on, not stored.
      if (this.#bytes > this.#owner.maxObjectBytes) this.#stopStoring('too-large');
      else this.#chunks.push(chunk);
    }
    const subs = this.#subs;
    for (let i = 0; i < subs.length; i++) {
      const sub = subs[i]!;
      if (!sub.aborted) sub.req.handler.onResponseData(sub, chunk);
    }
  }

  onResponseEnd(_controller: ResponseController): void {
    if (this.#phase !== STREAMING) {
      this.#finish();
      return;
    }
    this.#phase = DONE;
    this.#unregister();
    // Stored before the clients hear the end: the next request on a kept-alive
    // connection must find it.
    if (this.#plan !== null) this.#owner.store(this, this.#plan, this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks, this.#bytes));
    this.#chunks = [];
    const subs = this.#subs;
    this.#subs = [];
    for (const sub of subs) {
      if (sub.aborted) continue;
      sub.fetch = null;
      sub.req.handler.onResponseEnd(sub);
    }
  }

  onResponseError(_controller: ResponseController, error: RampartError): void {
    if (this.#phase === DONE) {
      this.#finish();
      return;
    }
    const before = this.#phase === WAITING;
    this.#phase = DONE;
    this.#unregister();
    this.#chunks = [];
    const subs = this.#subs;
    this.#subs = [];
    for (const sub of subs) {
      if (sub.aborted) continue;
      sub.fetch = null;
      if (before && sub.stale !== null && this.#owner.staleOnError(sub, error)) continue;
      // Before any byte reached the client the gateway writes an error
      // response, which carries Cache-Status like every other of this route.
      sub.req.handler.onResponseError(sub, before ? this.#owner.errorFor(sub, error).withResponseHeaders(['cache-status', forwardStatus({ fwd: sub.fwd, collapsed: sub.collapsed })]) : error);
    }
  }

  onUpgrade(controller: ResponseController, _status: number, _headers: HeaderList, socket: Duplex): void {
    // The cache never asks for an upgrade; a server that switches anyway is broken.
    socket.destroy();
    this.onResponseError(controller, upstreamBadResponse(this.uri, '101 to a request that asked for no upgrade'));
  }

  // ---- clients ----

  pauseFor(_sub: Subscriber): void {
    if (this.#paused++ === 0) this.#upstream?.pause();
  }

  resumeFor(_sub: Subscriber): void {
    if (this.#paused > 0 && --this.#paused === 0) this.#upstream?.resume();
  }

  /** A client went away. The others keep their response; the fetch goes on while it is being stored. */
  leave(sub: Subscriber): void {
    if (sub.paused) {
      sub.paused = false;
      this.resumeFor(sub);
    }
    this.#remove(sub);
    if (this.#phase === DONE || this.#subs.length > 0 || this.#background) return;
    if (this.#phase === STREAMING && this.#plan !== null) return;
    this.#abandon();
  }

  #remove(sub: Subscriber): void {
    sub.fetch = null;
    this.#subs = this.#subs.filter((s) => s !== sub);
  }

  #stopStoring(reason: string): void {
    this.#plan = null;
    this.#notStored = reason;
    this.#chunks = [];
    this.#unregister();
    if (this.#phase === STREAMING && this.#subs.length === 0 && !this.#background) this.#abandon();
  }

  /** Nobody is left to answer and nothing to store: stop the upstream exchange. */
  #abandon(): void {
    this.#phase = DONE;
    this.#unregister();
    this.#chunks = [];
    const upstream = this.#upstream;
    if (upstream !== null && !upstream.aborted) upstream.abort(clientAborted());
  }

  #unregister(): void {
    const coalescer = this.#owner.coalescer;
    if (this.#key !== null) coalescer.delete(this.#key, this);
    coalescer.untrack(this);
  }

  #finish(): void {
    this.#unregister();
  }
}

/** RFC 5861 §4: the errors stale-if-error covers. */
export function isErrorStatus(status: number): boolean {
  return status === 500 || status === 502 || status === 503 || status === 504;
}

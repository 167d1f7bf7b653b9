// The edge cache of one route (RFC 9111, a shared cache): the innermost layer
// of the route's chain, between its middleware and the upstream. Per request:
//
//   not GET/HEAD ─► forward; a 2xx/3xx to an unsafe method invalidates (§4.4)
//   bypass (session cookie, body, If-Match…) ─► forward untouched, not stored
//   lookup ─► fresh & allowed ─► hit (304 / 206 / 416 / 200 from the store)
//          ─► stale ─► max-stale, stale-while-revalidate (+ one background
//                      refresh), stale-if-down ─► served stale
//                    ─► else revalidate upstream (If-None-Match / -Modified-Since)
//          ─► none ─► miss: join the key's fetch in flight, or lead a new one
//
// Every response of the route carries Cache-Status (RFC 9211) naming `rampart`.
// The memory store answers synchronously, so a hit never waits on a promise.
import type { RouteCacheConfig, RouteConfig } from '../config/load.ts';
import { cacheFailed, cacheMustRevalidate, type RampartError } from '../errors.ts';
import type { Dispatch, HeaderList, Middleware, ProxyRequest, ResponseController, ResponseHandler } from '../middleware/types.ts';
import type { Logger } from '../observability/log.ts';
import type { Duplex } from 'node:stream';
import { NO_REQUEST_DIRECTIVES, PRAGMA_NO_CACHE, parseRequestCacheControl, pragmaNoCache } from './cache-control.ts';
import { detailStatus, forwardStatus, hitStatus, seconds, type Forward } from './cache-status.ts';
import type { Coalescer } from './coalescer.ts';
import { HIT_FOR_MISS_ERROR_MS, HIT_FOR_MISS_MS } from './coalescer.ts';
import { mergeNotModified, notModified, notModifiedHeaders, notModifiedSelects } from './conditional.ts';
import type { CacheCounters, RouteCounters } from './counters.ts';
import { computeFreshness, currentAgeMs, hasValidators, HEURISTICALLY_CACHEABLE, type Freshness } from './freshness.ts';
import { compileGlobs } from './glob.ts';
import { formatHttpDate } from './http-date.ts';
import { CacheKey, normaliseHost } from './key.ts';
import { ifRangeHolds, selectRange } from './range.ts';
import { scanRequest, withValidators } from './request-facts.ts';
import { splitResponseFields, tagsOf, type ResponseFields } from './response-fields.ts';
import { SharedFetch, Subscriber, type CacheRequest, type Candidate, type FetchOwner, type StorePlan } from './shared-fetch.ts';
import { isPromise, type CacheStore, type StoredResponse } from './store.ts';
import { varyPart } from './vary.ts';

/** What every cached route shares, kept by the gateway across reloads (edge-cache.ts). */
export interface CacheShared {
  readonly coalescer: Coalescer;
  readonly counters: CacheCounters;
  readonly logger: Logger;
  /** The store in use; null while none is open (a Redis store still connecting). */
  store(): CacheStore | null;
  maxObjectBytes(): number;
  now(): number;
}

export interface CacheLayerOptions {
  readonly route: RouteConfig;
  readonly cache: RouteCacheConfig;
  readonly shared: CacheShared;
  /** No server of the route's upstream can take a request (staleIfDown). */
  readonly upstreamDown: () => boolean;
  /** Name of the upstream's sticky cookie, whose Set-Cookie is the gateway's own. */
  readonly stickyCookie: string | null;
}

/** RFC 9110 §9.2.1; anything else is unsafe and invalidates (RFC 9111 §4.4). */
const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

/**
 * Status codes whose caching rules this cache implements (§5.2.2.3
 * must-understand): the heuristically cacheable ones and the redirects.
 */
const UNDERSTOOD: ReadonlySet<number> = new Set([...HEURISTICALLY_CACHEABLE, 302, 303, 307, 451]);

/**
 * How long a stale response with validators is kept for revalidation beyond
 * every stale window (Varnish's `keep`): a 304 is cheaper than a full body.
 */
const KEEP_FOR_REVALIDATION_MS = 3_600_000;

const STORE_WARNING_INTERVAL_MS = 30_000;

const NONE: readonly StoredResponse[] = Object.freeze([]);

/** A hit is answered synchronously: nothing to pause, nothing to abort. */
const HIT_CONTROLLER: ResponseController = Object.freeze({ pause() {}, resume() {}, abort() {}, aborted: false });

/** A stored response as a hit serves it, worked out once per stored object. */
interface EntryInfo {
  readonly f: Freshness;
  /** Stored fields without Age, which each hit writes anew. */
  readonly headers: HeaderList;
  readonly length: string;
}

export function createCacheLayer(options: CacheLayerOptions): Middleware {
  return function cacheLayer(next) {
    const layer = new CacheLayer(options, next);
    return function cacheDispatch(request, handler) {
      layer.dispatch(request, handler);
    };
  };
}

export class CacheLayer implements FetchOwner {
  readonly coalescer: Coalescer;
  readonly #shared: CacheShared;
  readonly #next: Dispatch;
  readonly #options: RouteCacheConfig;
  readonly #key: CacheKey;
  readonly #bypass: RegExp | null;
  readonly #counters: RouteCounters;
  readonly #upstreamDown: () => boolean;
  readonly #sticky: string | null;
  readonly #upstreamName: string;
  readonly #logger: Logger;
  readonly #info = new WeakMap<StoredResponse, EntryInfo>();
  #dateSecond = 0;
  #lastStoreWarning = -Infinity;
  #dateText = '';

  constructor(options: CacheLayerOptions, next: Dispatch) {
    this.#shared = options.shared;
    this.coalescer = options.shared.coalescer;
    this.#logger = options.shared.logger;
    this.#next = next;
    this.#options = options.cache;
    this.#key = new CacheKey(options.cache.key);
    // Cookie names are matched case-insensitively: PHPSESSID, phpsessid and PhpSessId are one cookie to their owners.
    this.#bypass = compileGlobs(options.cache.bypassCookies, true);
    this.#counters = options.shared.counters.forRoute(options.route.label);
    this.#upstreamDown = options.upstreamDown;
    this.#sticky = options.stickyCookie;
    this.#upstreamName = options.route.upstream;
  }

  get maxObjectBytes(): number {
    return this.#shared.maxObjectBytes();
  }

  now(): number {
    return this.#shared.now();
  }

  dispatch(request: ProxyRequest, handler: ResponseHandler): void {
    try {
      this.#dispatch(request, handler);
    } catch (err) {
      // A bug here must cost one request, not the process: this runs inside
      // the connection's socket callbacks, where a throw is uncaught.
      this.#logger.error({ err, target: request.target }, 'the edge cache failed on a request');
      handler.onResponseError(HIT_CONTROLLER, cacheFailed(err));
    }
  }

  #dispatch(request: ProxyRequest, handler: ResponseHandler): void {
    const method = request.method;
    if (method !== 'GET' && method !== 'HEAD') {
      this.#counters.pass++;
      this.#next(request, new PassHandler(handler, this, SAFE_METHODS.has(method) ? null : request, 'method', undefined));
      return;
    }
    // A WebSocket handshake is not a cacheable exchange.
    if (request.upgrade) {
      this.#next(request, handler);
      return;
    }
    const facts = scanRequest(request.headers);
    let bypass: string | null = null;
    if (request.body !== null) bypass = 'body';
    else if (facts.originPreconditions) bypass = 'precondition';
    else if (facts.cookie !== undefined && this.#bypass !== null && this.#hasBypassCookie(facts.cookie)) bypass = 'cookie';
    const store = this.#shared.store();
    if (bypass === null && store === null) bypass = 'store-unavailable';
    if (bypass !== null) {
      this.#counters.bypass++;
      this.#next(request, new PassHandler(handler, this, null, 'bypass', bypass));
      return;
    }
    const cc = facts.cacheControl !== undefined ? parseRequestCacheControl(facts.cacheControl) : facts.pragma !== undefined && pragmaNoCache(facts.pragma) ? PRAGMA_NO_CACHE : NO_REQUEST_DIRECTIVES;
    const uri = this.#key.uri(request.host, request.target);
    const keyPart = this.#key.part(request.headers, facts.cookie);
    const req: CacheRequest = { request, handler, facts, cc, uri, keyPart, key: keyPart === '' ? uri : uri + keyPart };
    let found: readonly StoredResponse[] | Promise<readonly StoredResponse[]>;
    try {
      found = store!.lookup(uri);
    } catch (err) {
      this.#logger.error({ err, uri }, 'cache lookup failed; answering as a miss');
      found = NONE;
    }
    if (!isPromise(found)) {
      this.#decide(req, found, null);
      return;
    }
    // An asynchronous store: the client may leave while the lookup runs.
    const sub = new Subscriber(req);
    handler.onRequestStart(sub);
    found.then(
      (entries) => {
        if (!sub.aborted) this.#decideSafely(req, entries, sub);
      },
      (err: unknown) => {
        this.#logger.error({ err, uri }, 'cache lookup failed; answering as a miss');
        if (!sub.aborted) this.#decideSafely(req, NONE, sub);
      },
    );
  }

  #decideSafely(req: CacheRequest, entries: readonly StoredResponse[], sub: Subscriber): void {
    try {
      this.#decide(req, entries, sub);
    } catch (err) {
      this.#logger.error({ err, uri: req.uri }, 'cache failed on a request; forwarding it');
      if (!sub.started) this.#next(req.request, req.handler);
    }
  }

  #hasBypassCookie(cookie: string): boolean {
    const bypass = this.#bypass!;
    let start = 0;
    while (start < cookie.length) {
      let end = cookie.indexOf(';', start);
      if (end === -1) end = cookie.length;
      const eq = cookie.indexOf('=', start);
      const name = cookie.slice(start, eq !== -1 && eq < end ? eq : end).trim();
      // The gateway's own affinity cookie is not a session of the app.
      if (name !== '' && name !== this.#sticky && bypass.test(name)) return true;
      start = end + 1;
    }
    return false;
  }

  /** The first (most recently stored) variant whose secondary key matches this request, or null. */
  #select(req: CacheRequest, entries: readonly StoredResponse[]): StoredResponse | null {
    let varyKey: readonly string[] | null = null;
    let variant = '';
    for (const entry of entries) {
      const vary = entry.vary;
      if (vary.length === 0) {
        if (entry.variant !== req.keyPart) continue;
      } else {
        if (vary !== varyKey) {
          varyKey = vary;
          variant = req.keyPart + varyPart(req.request.headers, vary);
        }
        if (entry.variant !== variant) continue;
      }
      // §3.5: a request with Authorization may only reuse what the origin marked shareable.
      if (req.facts.authorization && !this.#entryInfo(entry).f.authorizationOk) continue;
      return entry;
    }
    return null;
  }

  #entryInfo(entry: StoredResponse): EntryInfo {
    let info = this.#info.get(entry);
    if (info === undefined) {
      const f = computeFreshness(entry, this.#options.heuristic);
      const headers: HeaderList = [];
      const h = entry.headers;
      for (let i = 0; i < h.length; i += 2) if (h[i] !== 'age') headers.push(h[i]!, h[i + 1]!);
      info = { f, headers, length: String(entry.body.length) };
      this.#info.set(entry, info);
    }
    return info;
  }

  #decide(req: CacheRequest, entries: readonly StoredResponse[], sub: Subscriber | null): void {
    const entry = entries.length === 0 ? null : this.#select(req, entries);
    if (entry === null) {
      this.#miss(req, sub, entries.length === 0 ? 'uri-miss' : 'vary-miss');
      return;
    }
    const info = this.#entryInfo(entry);
    const f = info.f;
    const now = this.now();
    const age = currentAgeMs(f, now);
    const cc = req.cc;
    // The request's limits (§5.2.1.1-3) are in whole seconds, compared with
    // the Age and ttl the client is shown: `max-age=50` accepts `Age: 50`
    // ("less than or equal"), `max-stale=20` a response 20 s stale.
    const ttl = seconds(f.lifetimeMs) - seconds(age);
    const ageAllowed = cc.maxAge === undefined || seconds(age) <= cc.maxAge;
    if (age < f.lifetimeMs && !f.directives.noCache && !cc.noCache && ageAllowed && (cc.minFresh === undefined || ttl >= cc.minFresh)) {
      this.#counters.hit++;
      this.#serve(req, sub, entry, info, age, hitStatus(ttl));
      return;
    }
    const candidate: Candidate = { entry, f };
    if (age < f.lifetimeMs) {
      // Fresh, but the request (or no-cache) wants it confirmed.
      if (cc.onlyIfCached) return this.#unavailable(req, sub);
      this.#revalidate(req, sub, candidate, f.directives.noCache ? 'stale' : 'request');
      return;
    }
    const staleMs = age - f.lifetimeMs;
    // §4.2.4: the client accepts staleness, and the origin did not forbid it.
    if (cc.maxStale !== undefined && -ttl <= cc.maxStale && !f.noStale && !f.sharedRevalidate && !cc.noCache && ageAllowed) {
      this.#counters.stale++;
      this.#serve(req, sub, entry, info, age, hitStatus(ttl, 'max-stale'));
      return;
    }
    if (cc.onlyIfCached) return this.#unavailable(req, sub);
    const swr = f.directives.staleWhileRevalidate;
    if (swr !== undefined && -ttl <= swr && !f.noStale && !cc.noCache && ageAllowed && cc.minFresh === undefined) {
      this.#counters.stale++;
      this.#refreshInBackground(req, candidate);
      this.#serve(req, sub, entry, info, age, hitStatus(ttl, 'stale-while-revalidate'));
      return;
    }
    if (this.#staleIfDownAllows(f, staleMs) && this.#upstreamDown()) {
      this.#counters.stale++;
      this.#serve(req, sub, entry, info, age, hitStatus(ttl, 'stale-if-down'));
      return;
    }
    this.#revalidate(req, sub, candidate, 'stale');
  }

  /** staleIfDown is operator configuration: never against the origin's must-revalidate, proxy-revalidate or s-maxage (§4.2.4). */
  #staleIfDownAllows(f: Freshness, staleMs: number): boolean {
    const limit = this.#options.staleIfDownMs;
    return limit > 0 && staleMs <= limit && !f.noStale && !f.sharedRevalidate;
  }

  /** Requests that may share an upstream response with others (lead or join a fetch). */
  #shareable(req: CacheRequest): boolean {
    return !req.facts.authorization && !req.cc.noStore;
  }

  #miss(req: CacheRequest, sub: Subscriber | null, fwd: Forward): void {
    if (req.cc.onlyIfCached) return this.#unavailable(req, sub);
    const client = sub ?? this.#subscribe(req);
    client.fwd = fwd;
    const facts = req.facts;
    // The client's own conditional or range request goes upstream as it is,
    // and its 304 or 206 comes back unchanged; neither is stored.
    const asSent = facts.ifNoneMatch !== undefined || facts.ifModifiedSince !== undefined || facts.range !== undefined;
    const shareable = !asSent && this.#shareable(req) && !this.coalescer.isUncacheable(req.key, this.now());
    this.#joinOrFetch(client, req, shareable, asSent);
  }

  #revalidate(req: CacheRequest, sub: Subscriber | null, candidate: Candidate, fwd: Forward): void {
    const client = sub ?? this.#subscribe(req);
    client.fwd = fwd;
    client.stale = candidate;
    this.#joinOrFetch(client, req, this.#shareable(req), false);
  }

  /** Joins the key's fetch in flight (coalescing) when it may be shared and still takes joiners; else starts one. */
  #joinOrFetch(client: Subscriber, req: CacheRequest, shareable: boolean, asSent: boolean): void {
    if (!shareable) {
      this.#fetch(client, null, asSent);
      return;
    }
    const inflight = this.coalescer.get(req.key);
    if (inflight !== undefined) {
      client.collapsed = true;
      if (inflight.join(client)) {
        this.#counters.collapsed++;
        return;
      }
      client.collapsed = false;
    }
    this.#fetch(client, req.key, asSent);
  }

  /** A Subscriber for a request answered from a fetch; its handler learns of its controller now. */
  #subscribe(req: CacheRequest): Subscriber {
    const sub = new Subscriber(req);
    req.handler.onRequestStart(sub);
    return sub;
  }

  /**
   * Sends `client`'s request upstream, as the leader of a new fetch
   * (registered for coalescing under `key` unless null). With a stale
   * candidate the request becomes the cache's own: the client's conditionals
   * go, the candidate's validators come. A HEAD becomes a GET (as nginx's
   * proxy_cache_convert_head) so that its response can be stored.
   */
  #fetch(client: Subscriber, key: string | null, asSent: boolean): void {
    const req = client.req;
    const request = req.request;
    let revalidating: Candidate | null = null;
    if (client.stale !== null) {
      const f = client.stale.f;
      const conditional = hasValidators(f) && !client.unconditional;
      revalidating = conditional ? client.stale : null;
      request.headers = conditional ? withValidators(request.headers, f.etag, f.lastModified) : withValidators(request.headers, undefined, undefined);
      request.method = 'GET';
    } else if (!asSent && !req.cc.noStore) request.method = 'GET';
    const fetch = new SharedFetch(this, req, { key, revalidating, leader: client });
    fetch.start(this.#next);
  }

  /** stale-while-revalidate: one refresh per key at a time, nobody waiting on it. */
  #refreshInBackground(req: CacheRequest, candidate: Candidate): void {
    if (this.coalescer.get(req.key) !== undefined) return;
    const f = candidate.f;
    const request: ProxyRequest = { ...req.request, method: 'GET', headers: withValidators(req.request.headers, f.etag, f.lastModified), body: null, server: undefined, attempts: undefined };
    const origin: CacheRequest = { ...req, request, handler: BACKGROUND_HANDLER };
    const fetch = new SharedFetch(this, origin, { key: req.key, revalidating: hasValidators(f) ? candidate : null, leader: null });
    fetch.start(this.#next);
  }

  // ---- answers ----

  /** Answers from a stored response: 304 to a matching conditional, 206/416 to a range, else the whole. */
  #serve(req: CacheRequest, sub: Subscriber | null, entry: StoredResponse, info: EntryInfo, ageMs: number, status: string): void {
    const handler = req.handler;
    const controller: ResponseController = sub ?? HIT_CONTROLLER;
    if (sub !== null) {
      sub.started = true;
      sub.fetch = null;
    } else handler.onRequestStart(controller);
    const facts = req.facts;
    const age = String(seconds(ageMs));
    const ok = entry.status >= 200 && entry.status < 300;
    // RFC 9110 §13.2.1: preconditions apply to 2xx responses only.
    if (ok && (facts.ifNoneMatch !== undefined || facts.ifModifiedSince !== undefined) && notModified(facts, info.f, this.now())) {
      const headers = notModifiedHeaders(info.headers);
      headers.push('age', age, 'cache-status', status);
      handler.onResponseStart(controller, 304, headers, '');
      handler.onResponseEnd(controller);
      return;
    }
    const body = entry.body;
    if (facts.range !== undefined && entry.status === 200 && (facts.ifRange === undefined || ifRangeHolds(facts.ifRange, info.f, this.now()))) {
      const range = selectRange(facts.range, body.length);
      if (range.kind === 'partial') {
        const headers = info.headers.slice();
        headers.push('content-range', `bytes ${range.start}-${range.end}/${body.length}`, 'age', age, 'cache-status', status, 'content-length', String(range.end - range.start + 1));
        handler.onResponseStart(controller, 206, headers, '');
        handler.onResponseData(controller, body.subarray(range.start, range.end + 1));
        handler.onResponseEnd(controller);
        return;
      }
      if (range.kind === 'unsatisfiable') {
        handler.onResponseStart(controller, 416, ['content-range', `bytes */${body.length}`, 'age', age, 'cache-status', status, 'content-length', '0'], '');
        handler.onResponseEnd(controller);
        return;
      }
    }
    const headers = info.headers.slice();
    headers.push('age', age, 'cache-status', status, 'content-length', info.length);
    handler.onResponseStart(controller, entry.status, headers, entry.reason);
    if (body.length > 0) handler.onResponseData(controller, body);
    handler.onResponseEnd(controller);
  }

  /** §5.2.1.7 only-if-cached with nothing usable: 504. */
  #unavailable(req: CacheRequest, sub: Subscriber | null): void {
    const controller: ResponseController = sub ?? HIT_CONTROLLER;
    if (sub === null) req.handler.onRequestStart(controller);
    else sub.started = true;
    const body = Buffer.from('504 Gateway Timeout: not in the cache, and the request allows only a cached response (only-if-cached)\n');
    this.#counters.miss++;
    req.handler.onResponseStart(controller, 504, ['content-type', 'text/plain; charset=utf-8', 'cache-status', detailStatus('only-if-cached'), 'content-length', String(body.length)], '');
    req.handler.onResponseData(controller, body);
    req.handler.onResponseEnd(controller);
  }

  /**
   * Serves the stale candidate after the request went forward and failed.
   * Not a `hit`: RFC 9211 §2.1 keeps that for requests that were not
   * forwarded, so it is `fwd=stale` with what came back (no fwd-status when
   * no response did), and the negative ttl says how stale it is.
   */
  #serveCandidate(sub: Subscriber, candidate: Candidate, detail: string, fwdStatus: number | undefined): void {
    const info = this.#entryInfo(candidate.entry);
    const age = currentAgeMs(info.f, this.now());
    this.#counters.stale++;
    const status = forwardStatus({ fwd: 'stale', fwdStatus, ttl: seconds(info.f.lifetimeMs) - seconds(age), collapsed: sub.collapsed, detail });
    this.#serve(sub.req, sub, candidate.entry, info, age, status);
  }

  #date(now: number): string {
    const second = Math.floor(now / 1000);
    if (second !== this.#dateSecond) {
      this.#dateSecond = second;
      this.#dateText = formatHttpDate(now);
    }
    return this.#dateText;
  }

  // ---- FetchOwner: what a SharedFetch asks of this layer ----

  fields(headers: HeaderList, responseTime: number): ResponseFields {
    return splitResponseFields(headers, this.#sticky, this.#date(responseTime));
  }

  plan(fetch: SharedFetch, status: number, fields: ResponseFields): StorePlan | string {
    const origin = fetch.origin;
    if (origin.request.method !== 'GET') return 'method';
    if (origin.cc.noStore) return 'no-store';
    if (status === 206) return 'partial-content';
    if (status === 304) return 'not-modified';
    const f = computeFreshness({ status, headers: fields.stored, requestTime: fetch.requestTime, responseTime: fetch.responseTime }, this.#options.heuristic);
    const d = f.directives;
    // §5.2.2.3: must-understand overrides no-store only for status codes this cache understands.
    if (d.mustUnderstand) {
      if (!UNDERSTOOD.has(status)) return 'must-understand';
    } else if (d.noStore) return 'no-store';
    if (d.private) return 'private';
    if (origin.facts.authorization && !f.authorizationOk) return 'authorization';
    if (fields.setCookie && !this.#options.allowSetCookie) return 'set-cookie';
    if (fields.vary === '*') return 'vary-star';
    if (fields.vary === null) return 'vary-invalid';
    // §3: explicit freshness, a heuristically cacheable status, or public.
    if (!f.explicit && !HEURISTICALLY_CACHEABLE.has(status) && !d.public) return 'status';
    if (fields.contentLength > this.maxObjectBytes) return 'too-large';
    const windows = !f.noStale && ((d.staleWhileRevalidate ?? 0) > 0 || (d.staleIfError ?? 0) > 0);
    // Stale on arrival, or no-cache, with nothing to revalidate with: every
    // later use would fetch the whole response again anyway.
    if (!hasValidators(f) && ((f.initialAgeMs >= f.lifetimeMs && !windows) || d.noCache)) return d.noCache ? 'no-cache' : 'stale';
    const removeAt = this.#removeAt(f);
    if (removeAt <= fetch.responseTime) return 'stale';
    return {
      f,
      headers: fields.stored,
      vary: fields.vary,
      variant: origin.keyPart + varyPart(origin.request.headers, fields.vary),
      tags: fields.tags,
      removeAt,
    };
  }

  /** When no rule can use a stored response any more: freshness plus the longest stale window that applies. */
  #removeAt(f: Freshness): number {
    const expiresAt = f.responseTime - f.initialAgeMs + f.lifetimeMs;
    let extra = 0;
    if (!f.noStale) {
      extra = Math.max((f.directives.staleWhileRevalidate ?? 0) * 1000, (f.directives.staleIfError ?? 0) * 1000);
      if (!f.sharedRevalidate) extra = Math.max(extra, this.#options.staleIfDownMs);
    }
    if (hasValidators(f)) extra = Math.max(extra, KEEP_FOR_REVALIDATION_MS);
    return expiresAt + extra;
  }

  matches(sub: Subscriber, plan: StorePlan): boolean {
    const req = sub.req;
    if (req.facts.authorization && !plan.f.authorizationOk) return false;
    return req.keyPart + varyPart(req.request.headers, plan.vary) === plan.variant;
  }

  startStream(sub: Subscriber, fetch: SharedFetch, status: number, reason: string, fields: ResponseFields, plan: StorePlan | null, notStored: string | undefined): boolean {
    const req = sub.req;
    const leader = sub === fetch.leader;
    sub.started = true;
    const cacheStatus = forwardStatus({ fwd: sub.fwd, fwdStatus: status, stored: plan !== null, collapsed: sub.collapsed, detail: notStored });
    this.#counters.miss++;
    // The cache sent its own validators instead of the client's: answer the client's here.
    if (sub.stale !== null && status >= 200 && status < 300 && (req.facts.ifNoneMatch !== undefined || req.facts.ifModifiedSince !== undefined)) {
      const f = plan?.f ?? computeFreshness({ status, headers: fields.stored, requestTime: fetch.requestTime, responseTime: fetch.responseTime }, false);
      if (notModified(req.facts, f, this.now())) {
        const headers = notModifiedHeaders(fields.stored);
        headers.push('cache-status', cacheStatus);
        req.handler.onResponseStart(sub, 304, headers, '');
        req.handler.onResponseEnd(sub);
        return false;
      }
    }
    let headers: HeaderList;
    if (leader) {
      headers = fields.client.slice();
    } else {
      // Others never see the leader's Set-Cookie; framing is rebuilt from the stored fields.
      headers = fields.stored.slice();
      if (fields.contentLength >= 0) headers.push('content-length', String(fields.contentLength));
    }
    headers.push('cache-status', cacheStatus);
    req.handler.onResponseStart(sub, status, headers, reason);
    return true;
  }

  staleOnError(sub: Subscriber, error: RampartError | null, status?: number): boolean {
    const candidate = sub.stale;
    if (candidate === null || sub.aborted) return false;
    const f = candidate.f;
    const age = currentAgeMs(f, this.now());
    const staleMs = age - f.lifetimeMs;
    if (!f.noStale) {
      // RFC 5861 §4: the response's own stale-if-error, or the client's (a client cannot override s-maxage).
      // Whole seconds, as the ttl shown: `stale-if-error=20` covers a response 20 s stale.
      const staleSeconds = seconds(age) - seconds(f.lifetimeMs);
      const own = f.directives.staleIfError;
      const asked = sub.req.cc.staleIfError;
      if ((own !== undefined && staleSeconds <= own) || (asked !== undefined && !f.sharedRevalidate && staleSeconds <= asked)) {
        this.#serveCandidate(sub, candidate, 'stale-if-error', status);
        return true;
      }
    }
    // No server left at all (or none took it): the operator's staleIfDown.
    if ((error?.code === 'RAMPART_ERR_NO_SERVER' || this.#upstreamDown()) && this.#staleIfDownAllows(f, staleMs)) {
      this.#serveCandidate(sub, candidate, 'stale-if-down', status);
      return true;
    }
    return false;
  }

  errorFor(sub: Subscriber, error: RampartError): RampartError {
    // A stored response exists but may not be served stale, and no server can
    // revalidate it: §5.2.2.2 asks for an error, 504 by default.
    const f = sub.stale?.f;
    if (f !== undefined && (f.noStale || f.sharedRevalidate) && (error.code === 'RAMPART_ERR_NO_SERVER' || this.#upstreamDown())) return cacheMustRevalidate(this.#upstreamName);
    return error;
  }

  notModified(fetch: SharedFetch, headers: HeaderList, subs: readonly Subscriber[]): void {
    const candidate = fetch.revalidating!;
    const old = candidate.entry;
    const fields = splitResponseFields(headers, this.#sticky, this.#date(fetch.responseTime));
    if (!notModifiedSelects(candidate.f.etag, fields.stored)) {
      // §4.3.4: the 304 confirms a representation the cache does not hold.
      // Nothing is updated; each client asks again, without validators, and
      // gets (and may store) the full response.
      for (const sub of subs) {
        sub.fetch = null;
        sub.unconditional = true;
        this.redispatch(sub);
      }
      return;
    }
    const merged = mergeNotModified(old.headers, fields.stored);
    const probe = { status: old.status, headers: merged, requestTime: fetch.requestTime, responseTime: fetch.responseTime };
    const f = computeFreshness(probe, this.#options.heuristic);
    // A 304 that now says no-store or private withdraws the stored response:
    // this client still gets it, nobody after (the store drops what has expired).
    const withdrawn = f.directives.private || (f.directives.noStore && !f.directives.mustUnderstand);
    const removeAt = withdrawn ? fetch.responseTime - 1 : this.#removeAt(f);
    const changes = { headers: merged, requestTime: fetch.requestTime, responseTime: fetch.responseTime, removeAt, tags: tagsOf(headers) ?? old.tags };
    const updated: StoredResponse = { ...old, ...changes };
    // A request with no-store may not leave anything of the exchange behind, a 304's fields included.
    if (!fetch.invalidated && !fetch.origin.cc.noStore) {
      const store = this.#shared.store();
      if (store !== null) this.#settle(store.update(fetch.uri, old.variant, changes), 'update');
    }
    for (const sub of subs) {
      sub.fetch = null;
      if (sub.stale === null || sub.stale.entry.variant !== old.variant || sub.req.uri !== fetch.uri) {
        this.redispatch(sub);
        continue;
      }
      const info = this.#entryInfo(updated);
      this.#counters.revalidated++;
      this.#serve(sub.req, sub, updated, info, currentAgeMs(info.f, this.now()), forwardStatus({ fwd: sub.fwd, fwdStatus: 304, collapsed: sub.collapsed }));
    }
  }

  redispatch(sub: Subscriber): void {
    sub.collapsed = false;
    const req = sub.req;
    const asSent = req.facts.ifNoneMatch !== undefined || req.facts.ifModifiedSince !== undefined || req.facts.range !== undefined;
    this.#fetch(sub, null, sub.stale === null && asSent);
  }

  store(fetch: SharedFetch, plan: StorePlan, body: Buffer): void {
    const store = this.#shared.store();
    if (store === null) return;
    const stored: StoredResponse = {
      status: fetch.status,
      reason: fetch.reason,
      headers: plan.headers,
      body,
      requestTime: fetch.requestTime,
      responseTime: fetch.responseTime,
      variant: plan.variant,
      vary: plan.vary,
      tags: plan.tags,
      removeAt: plan.removeAt,
    };
    this.#settle(store.put(fetch.uri, stored), 'put');
    this.#counters.stored++;
  }

  uncacheable(fetch: SharedFetch, status: number, reason: string): void {
    // An invalidation says nothing about the next response.
    if (reason === 'invalidated') return;
    this.coalescer.markUncacheable(fetch.origin.key, this.now(), status >= 500 ? HIT_FOR_MISS_ERROR_MS : HIT_FOR_MISS_MS);
  }

  /**
   * Logs a failed asynchronous store operation; a store that fails only
   * costs hits. At most one line per 30 s: during a Redis outage every
   * unsafe request would otherwise log one (the store logs the outage itself).
   */
  #settle(result: unknown, what: string): void {
    if (!isPromise(result)) return;
    result.then(undefined, (err: unknown) => {
      const now = Date.now();
      if (now - this.#lastStoreWarning < STORE_WARNING_INTERVAL_MS) return;
      this.#lastStoreWarning = now;
      this.#logger.warn({ err, op: what }, 'cache store operation failed (further failures within 30 s are not logged)');
    });
  }

  // ---- invalidation (RFC 9111 §4.4) ----

  /** A 2xx/3xx to an unsafe method: the target URI and same-origin Location / Content-Location go, every variant. */
  invalidate(request: ProxyRequest, headers: HeaderList): void {
    const store = this.#shared.store();
    if (store === null) return;
    const uris = new Set<string>([this.#key.uri(request.host, request.target)]);
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i];
      if (name !== 'location' && name !== 'content-location') continue;
      const uri = this.#sameOriginUri(request, headers[i + 1]!);
      if (uri !== null) uris.add(uri);
    }
    for (const uri of uris) {
      this.coalescer.invalidate(uri);
      this.#settle(store.purgeUri(uri), 'invalidate');
      this.#counters.invalidations++;
    }
  }

  #sameOriginUri(request: ProxyRequest, reference: string): string | null {
    let url: URL;
    try {
      url = new URL(reference, `http://${request.host}${request.target === '*' ? '/' : request.target}`);
    } catch {
      return null;
    }
    // §4.4: only URIs with the same origin; a Location elsewhere could be used to purge someone else's entries.
    if (url.protocol !== 'http:' || normaliseHost(url.host) !== normaliseHost(request.host)) return null;
    return this.#key.uri(url.host, url.pathname + url.search);
  }

  /** The resource key the admin API purges for a URL path (and host when the key has one). */
  uriFor(host: string, target: string): string {
    return this.#key.uri(host, target);
  }
}

/** Where a background refresh's response goes: nowhere, the store is its only reader. */
const BACKGROUND_HANDLER: ResponseHandler = {
  onRequestStart() {},
  onResponseStart() {},
  onResponseData() {},
  onResponseEnd() {},
  onResponseError() {},
  onUpgrade(_c, _s, _h, socket) {
    socket.destroy();
  },
};

/**
 * Requests the cache stands aside for (methods it does not serve, bypass):
 * forwarded untouched, with Cache-Status added and purge tags removed; an
 * unsafe method's 2xx/3xx invalidates on the way back.
 */
class PassHandler implements ResponseHandler {
  readonly #inner: ResponseHandler;
  readonly #layer: CacheLayer;
  readonly #unsafe: ProxyRequest | null;
  readonly #fwd: 'method' | 'bypass';
  readonly #detail: string | undefined;

  constructor(inner: ResponseHandler, layer: CacheLayer, unsafe: ProxyRequest | null, fwd: 'method' | 'bypass', detail: string | undefined) {
    this.#inner = inner;
    this.#layer = layer;
    this.#unsafe = unsafe;
    this.#fwd = fwd;
    this.#detail = detail;
  }

  onRequestStart(c: ResponseController): void {
    this.#inner.onRequestStart(c);
  }

  onResponseStart(c: ResponseController, status: number, headers: HeaderList, reason: string): void {
    if (this.#unsafe !== null && status >= 200 && status < 400) this.#layer.invalidate(this.#unsafe, headers);
    const out: HeaderList = [];
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i]!;
      if (name !== 'cache-tag' && name !== 'surrogate-key') out.push(name, headers[i + 1]!);
    }
    out.push('cache-status', forwardStatus({ fwd: this.#fwd, fwdStatus: status, detail: this.#detail }));
    this.#inner.onResponseStart(c, status, out, reason);
  }

  onResponseData(c: ResponseController, chunk: Buffer): void {
    this.#inner.onResponseData(c, chunk);
  }

  onResponseEnd(c: ResponseController): void {
    this.#inner.onResponseEnd(c);
  }

  onResponseError(c: ResponseController, error: RampartError): void {
    // The gateway's own error response (502, 503, 504) is a response of this route too.
    this.#inner.onResponseError(c, error.withResponseHeaders(['cache-status', forwardStatus({ fwd: this.#fwd, detail: this.#detail })]));
  }

  onUpgrade(c: ResponseController, status: number, headers: HeaderList, socket: Duplex, head: Buffer): void {
    this.#inner.onUpgrade(c, status, headers, socket, head);
  }
}

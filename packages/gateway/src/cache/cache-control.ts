// Cache-Control (RFC 9111 §5.2) parsed into what the cache acts on. Field
// values come from anywhere, so parsing never throws and resolves every doubt
// towards the safer reading: an invalid max-age means "stale", an invalid
// max-stale means "no stale", a directive that should have no argument but
// has one still counts (`no-store=1` is still no-store).

/** §1.2.2: delta-seconds beyond what a cache can represent are taken as 2^31. */
export const MAX_DELTA_SECONDS = 2 ** 31;

export interface ResponseDirectives {
  /** Seconds; 0 when present but invalid or contradicted by a duplicate (§4.2.1: "considered stale"). */
  readonly maxAge: number | undefined;
  readonly sMaxAge: number | undefined;
  readonly noStore: boolean;
  /** Qualified (`no-cache="set-cookie"`) or not: both revalidate on every use (§5.2.2.4 allows the stricter reading). */
  readonly noCache: boolean;
  /** Qualified or not: a shared cache stores neither (§5.2.2.7). */
  readonly private: boolean;
  readonly public: boolean;
  readonly mustRevalidate: boolean;
  readonly proxyRevalidate: boolean;
  readonly mustUnderstand: boolean;
  /** RFC 5861 windows, seconds; undefined when absent or invalid. */
  readonly staleWhileRevalidate: number | undefined;
  readonly staleIfError: number | undefined;
}

export interface RequestDirectives {
  /** 0 when invalid: the client asked for something fresher than we can tell, so revalidate. */
  readonly maxAge: number | undefined;
  /** Infinity for a bare `max-stale` (any staleness); undefined when absent or invalid. */
  readonly maxStale: number | undefined;
  readonly minFresh: number | undefined;
  readonly noCache: boolean;
  readonly noStore: boolean;
  readonly onlyIfCached: boolean;
  readonly staleIfError: number | undefined;
}

export const NO_REQUEST_DIRECTIVES: RequestDirectives = Object.freeze({
  maxAge: undefined,
  maxStale: undefined,
  minFresh: undefined,
  noCache: false,
  noStore: false,
  onlyIfCached: false,
  staleIfError: undefined,
});

/** `Pragma: no-cache` without Cache-Control (§5.4: HTTP/1.0 clients). */
export const PRAGMA_NO_CACHE: RequestDirectives = Object.freeze({ ...NO_REQUEST_DIRECTIVES, noCache: true });

/** An argument that is present but unusable: not a number, negative, a fraction, garbage after it. */
const INVALID = -1;
/** No `=` at all. */
const BARE = -2;

/**
 * Directives as name → argument: the argument's value in seconds, INVALID
 * or BARE for numbers; every directive name is lower-cased (§5.2: names are
 * case-insensitive). Duplicates with different values become INVALID.
 */
function parseDirectives(value: string, visit: (name: string, seconds: number) => void): void {
  const n = value.length;
  let i = 0;
  while (i < n) {
    // Skip separators and OWS before a directive.
    let c = value.charCodeAt(i);
    while (i < n && (c === 44 || c === 32 || c === 9)) c = value.charCodeAt(++i);
    if (i >= n) break;
    const nameStart = i;
    while (i < n && (c = value.charCodeAt(i)) !== 61 /* = */ && c !== 44 && c !== 32 && c !== 9) i++;
    const name = value.slice(nameStart, i).toLowerCase();
    let seconds = BARE;
    if (i < n && value.charCodeAt(i) === 61) {
      i++;
      let arg: string;
      let ok = true;
      if (i < n && value.charCodeAt(i) === 34 /* " */) {
        // quoted-string (RFC 9110 §5.6.4): §5.2 asks recipients to accept it for any argument.
        let out = '';
        i++;
        let closed = false;
        while (i < n) {
          const q = value.charCodeAt(i);
          if (q === 92 /* \ */ && i + 1 < n) {
            out += value[i + 1];
            i += 2;
          } else if (q === 34) {
            closed = true;
            i++;
            break;
          } else {
            out += value[i];
            i++;
          }
        }
        arg = out;
        ok = closed;
      } else {
        const argStart = i;
        while (i < n && (c = value.charCodeAt(i)) !== 44 && c !== 32 && c !== 9) i++;
        arg = value.slice(argStart, i);
      }
      seconds = ok ? deltaSeconds(arg) : INVALID;
    }
    // Anything but OWS between the directive and the next comma is garbage
    // that makes this directive's argument unusable (`max-age=60 x`).
    while (i < n && (c = value.charCodeAt(i)) !== 44) {
      if (c !== 32 && c !== 9 && seconds !== BARE) seconds = INVALID;
      i++;
    }
    if (name !== '') visit(name, seconds);
  }
}

/** delta-seconds (§1.2.2): 1*DIGIT, clamped to 2^31. */
function deltaSeconds(text: string): number {
  if (text.length === 0) return INVALID;
  for (let i = 0; i < text.length; i++) {
    const d = text.charCodeAt(i);
    if (d < 48 || d > 57) return INVALID;
  }
  const n = Number(text);
  return n > MAX_DELTA_SECONDS ? MAX_DELTA_SECONDS : n;
}

/** A second occurrence of a numeric directive agrees with the first, or spoils it. */
function merge(previous: number | undefined, next: number): number {
  if (previous === undefined || previous === next) return next;
  return INVALID;
}

export function parseResponseCacheControl(value: string | undefined): ResponseDirectives {
  let maxAge: number | undefined;
  let sMaxAge: number | undefined;
  let swr: number | undefined;
  let sie: number | undefined;
  let noStore = false;
  let noCache = false;
  let isPrivate = false;
  let isPublic = false;
  let mustRevalidate = false;
  let proxyRevalidate = false;
  let mustUnderstand = false;
  if (value !== undefined) {
    parseDirectives(value, (name, seconds) => {
      switch (name) {
        case 'max-age':
          maxAge = merge(maxAge, seconds);
          break;
        case 's-maxage':
          sMaxAge = merge(sMaxAge, seconds);
          break;
        case 'stale-while-revalidate':
          swr = merge(swr, seconds);
          break;
        case 'stale-if-error':
          sie = merge(sie, seconds);
          break;
        case 'no-store':
          noStore = true;
          break;
        case 'no-cache':
          noCache = true;
          break;
        case 'private':
          isPrivate = true;
          break;
        case 'public':
          isPublic = true;
          break;
        case 'must-revalidate':
          mustRevalidate = true;
          break;
        case 'proxy-revalidate':
          proxyRevalidate = true;
          break;
        case 'must-understand':
          mustUnderstand = true;
          break;
        default:
          // Unknown extensions are ignored (§5.2.3).
          break;
      }
    });
  }
  return {
    // A freshness directive that is present but unusable makes the response stale (§4.2.1).
    maxAge: maxAge === undefined ? undefined : maxAge < 0 ? 0 : maxAge,
    sMaxAge: sMaxAge === undefined ? undefined : sMaxAge < 0 ? 0 : sMaxAge,
    noStore,
    noCache,
    private: isPrivate,
    public: isPublic,
    mustRevalidate,
    proxyRevalidate,
    mustUnderstand,
    // A window that cannot be read grants nothing.
    staleWhileRevalidate: swr === undefined || swr < 0 ? undefined : swr,
    staleIfError: sie === undefined || sie < 0 ? undefined : sie,
  };
}

export function parseRequestCacheControl(value: string): RequestDirectives {
  let maxAge: number | undefined;
  let maxStale: number | undefined;
  let minFresh: number | undefined;
  let sie: number | undefined;
  let noCache = false;
  let noStore = false;
  let onlyIfCached = false;
  parseDirectives(value, (name, seconds) => {
    switch (name) {
      case 'max-age':
        maxAge = merge(maxAge, seconds);
        break;
      case 'max-stale':
        // §5.2.1.2: without a value, any staleness is acceptable.
        maxStale = merge(maxStale, seconds === BARE ? Infinity : seconds);
        break;
      case 'min-fresh':
        minFresh = merge(minFresh, seconds);
        break;
      case 'stale-if-error':
        sie = merge(sie, seconds);
        break;
      case 'no-cache':
        noCache = true;
        break;
      case 'no-store':
        noStore = true;
        break;
      case 'only-if-cached':
        onlyIfCached = true;
        break;
      default:
        break;
    }
  });
  return {
    maxAge: maxAge === undefined ? undefined : maxAge < 0 ? 0 : maxAge,
    maxStale: maxStale === undefined || maxStale < 0 ? undefined : maxStale,
    // An unreadable min-fresh asks for nothing we can honour; ignoring it is the reading that serves.
    minFresh: minFresh === undefined || minFresh < 0 ? undefined : minFresh,
    noCache,
    noStore,
    onlyIfCached,
    staleIfError: sie === undefined || sie < 0 ? undefined : sie,
  };
}

/** `Pragma: no-cache` (§5.4), only consulted when the request has no Cache-Control. */
export function pragmaNoCache(value: string): boolean {
  for (const part of value.split(',')) if (part.trim().toLowerCase() === 'no-cache') return true;
  return false;
}

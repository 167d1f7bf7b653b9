// Cache-Status (RFC 9211): what this cache did with a request, appended as
// the last member after any Cache-Status the upstream sent, so that reading
// the list left to right follows the response from origin to client.

export const CACHE_NAME = 'rampart';

/** §2.2 fwd values this cache emits. */
export type Forward = 'uri-miss' | 'vary-miss' | 'miss' | 'stale' | 'request' | 'bypass' | 'method';

export interface StatusParts {
  readonly fwd: Forward;
  readonly fwdStatus?: number;
  /** §2.5: freshness left, negative once stale; given when a stored response is served after going forward. */
  readonly ttl?: number;
  readonly stored?: boolean;
  readonly collapsed?: boolean;
  readonly detail?: string;
}

/** `rampart; hit; ttl=N` (ttl negative once stale), with a detail when stale content was served on purpose. */
export function hitStatus(ttlSeconds: number, detail?: string): string {
  return detail === undefined ? `${CACHE_NAME}; hit; ttl=${ttlSeconds}` : `${CACHE_NAME}; hit; ttl=${ttlSeconds}; detail=${detail}`;
}

export function forwardStatus(p: StatusParts): string {
  let out = `${CACHE_NAME}; fwd=${p.fwd}`;
  if (p.fwdStatus !== undefined) out += `; fwd-status=${p.fwdStatus}`;
  if (p.ttl !== undefined) out += `; ttl=${p.ttl}`;
  if (p.stored === true) out += '; stored';
  if (p.collapsed === true) out += '; collapsed';
  if (p.detail !== undefined) out += `; detail=${p.detail}`;
  return out;
}

/** For answers that neither hit nor went forward (only-if-cached with nothing usable). */
export function detailStatus(detail: string): string {
  return `${CACHE_NAME}; detail=${detail}`;
}

/** Seconds for Age and ttl: whole seconds, as both fields carry (RFC 9111 §5.1, RFC 9211 §2.5). */
export function seconds(ms: number): number {
  return Math.floor(ms / 1000);
}

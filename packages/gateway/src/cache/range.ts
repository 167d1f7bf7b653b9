// Range requests answered from a stored 200 (RFC 9110 §14). The cache serves
// one byte range; several ranges get the whole representation (allowed: a
// server may ignore Range), which spares a multipart/byteranges encoder.
import type { Freshness } from './freshness.ts';
import { parseHttpDate } from './http-date.ts';

export type RangeResult =
  /** Serve the whole representation (no usable Range, several ranges, or If-Range failed). */
  | { readonly kind: 'full' }
  | { readonly kind: 'partial'; readonly start: number; readonly end: number }
  | { readonly kind: 'unsatisfiable' };

const FULL: RangeResult = { kind: 'full' };
const UNSATISFIABLE: RangeResult = { kind: 'unsatisfiable' };
const SPEC = /^(\d*)-(\d*)$/;

/** The range of a `length`-byte stored body that `range` asks for. */
export function selectRange(range: string, length: number): RangeResult {
  const eq = range.indexOf('=');
  // Another unit, or a syntax we cannot read: ignore the field (§14.2).
  if (eq === -1 || range.slice(0, eq).trim().toLowerCase() !== 'bytes') return FULL;
  const specs = range.slice(eq + 1).split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (specs.length !== 1) return FULL;
  const m = SPEC.exec(specs[0]!);
  if (m === null || (m[1] === '' && m[2] === '')) return FULL;
  let start: number;
  let end: number;
  if (m[1] === '') {
    // suffix-range: the last N bytes.
    const suffix = Number(m[2]);
    if (suffix === 0 || length === 0) return UNSATISFIABLE;
    start = Math.max(0, length - suffix);
    end = length - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? length - 1 : Math.min(Number(m[2]), length - 1);
    if (m[2] !== '' && Number(m[2]) < start) return FULL;
    if (start >= length) return UNSATISFIABLE;
  }
  return { kind: 'partial', start, end };
}

/**
 * If-Range (§13.1.5): the range applies only when the validator still
 * matches: an entity-tag by strong comparison, a date equal to a strong
 * Last-Modified.
 */
export function ifRangeHolds(ifRange: string, f: Pick<Freshness, 'etag' | 'lastModifiedMs' | 'dateMs'>, now: number): boolean {
  const v = ifRange.trim();
  if (v.startsWith('"') || v.startsWith('W/')) {
    if (v.startsWith('W/') || f.etag === undefined || f.etag.startsWith('W/')) return false;
    return v === f.etag.trim();
  }
  const date = parseHttpDate(v, now);
  // A Last-Modified at least a second older than Date counts as strong (§8.8.2.2).
  return date !== undefined && f.lastModifiedMs !== undefined && date === f.lastModifiedMs && f.dateMs - f.lastModifiedMs >= 1000;
}

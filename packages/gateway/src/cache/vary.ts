// Secondary keys (RFC 9111 §4.1): a stored response is reused only for a
// request whose Vary-named fields match those of the request that fetched it.
// Values are normalised first (§4.1 allows it: "by normalising both header
// field values in a way that is known to have identical semantics"), so that
// `gzip,br` and `br, gzip` share one variant instead of splitting the cache.
import type { HeaderList } from '../middleware/types.ts';

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * The Vary field names of a response, lower-case, sorted, without
 * duplicates; `*` when it varies on everything (never reusable, §4.1), or
 * null when the field cannot be read (treated like `*`: not stored).
 */
export function parseVary(headers: HeaderList): string[] | '*' | null {
  let names: string[] | null = null;
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] !== 'vary') continue;
    for (const part of headers[i + 1]!.split(',')) {
      const name = part.trim().toLowerCase();
      if (name === '') continue;
      if (name === '*') return '*';
      if (!TOKEN.test(name)) return null;
      names ??= [];
      if (!names.includes(name)) names.push(name);
    }
  }
  return names === null ? [] : names.sort();
}

/** List-valued fields whose members are case-insensitive tokens and whose order carries no meaning (preference is by q). */
const UNORDERED_LISTS: ReadonlySet<string> = new Set(['accept', 'accept-encoding', 'accept-language', 'accept-charset']);

/** Stands for an absent field: absent matches only absent (§4.1), never an empty value. */
const ABSENT = '\u0000';

/** Every value of `name` in `headers`, combined as one list (RFC 9110 §5.3), or undefined. */
export function combinedValue(headers: HeaderList, name: string): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] === name) value = value === undefined ? headers[i + 1]! : `${value},${headers[i + 1]!}`;
  }
  return value;
}

/**
 * A field value with the differences that carry no meaning removed: OWS
 * around list separators, several field lines versus one; members of the
 * Accept family also lower-cased and sorted.
 */
export function normaliseValue(name: string, value: string | undefined): string {
  if (value === undefined) return ABSENT;
  if (value.indexOf(',') === -1 && !UNORDERED_LISTS.has(name)) return value.trim();
  const members = splitList(value);
  if (UNORDERED_LISTS.has(name)) {
    for (let i = 0; i < members.length; i++) members[i] = members[i]!.toLowerCase().replace(/\s*;\s*/g, ';');
    members.sort();
  }
  return members.join(',');
}

/** Splits on commas outside quoted strings; drops empty members (RFC 9110 §5.6.1). */
function splitList(value: string): string[] {
  const out: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 34) quoted = !quoted;
    else if (c === 92 && quoted) i++;
    else if (c === 44 && !quoted) {
      const member = value.slice(start, i).trim();
      if (member !== '') out.push(member);
      start = i + 1;
    }
  }
  const last = value.slice(start).trim();
  if (last !== '') out.push(last);
  return out;
}

/** The part of a variant string that the response's Vary fields contribute for this request. */
export function varyPart(requestHeaders: HeaderList, names: readonly string[]): string {
  if (names.length === 0) return '';
  let out = '';
  for (const name of names) out += '\nv:' + name + '=' + normaliseValue(name, combinedValue(requestHeaders, name));
  return out;
}

// What a cache entry can hold: JSON. Checked before it is stored, because
// JSON.stringify changes some values without a word (a Date becomes a
// string, NaN becomes null, undefined and functions vanish) and the second
// reader would get something else than the first: a cached value must read
// back equal to what was put in, from memory or from Redis alike.
import { KitError } from '../errors.ts';

const MAX_DEPTH = 100;

function refuse(path: string, what: string, advice: string): never {
  throw new KitError('RAMPART_ERR_CACHE_VALUE', `cache: ${path} is ${what}; cached values are JSON (null, booleans, finite numbers, strings, arrays, plain objects)${advice}`);
}

function describe(value: object): string {
  const name = (Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null)?.constructor?.name;
  return name === undefined || name === '' ? 'an object with a prototype' : `a ${name}`;
}

function check(value: unknown, path: string, depth: number, open: Set<object>): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) refuse(path, String(value), ': JSON would turn it into null');
      return;
    case 'undefined':
      refuse(path, 'undefined', ': leave the key out, or store null');
      break;
    case 'function':
    case 'symbol':
    case 'bigint':
      refuse(path, `a ${typeof value}`, typeof value === 'bigint' ? ': store it as a string' : '');
      break;
    case 'object': {
      if (value === null) return;
      if (depth > MAX_DEPTH) refuse(path, `nested more than ${MAX_DEPTH} levels deep`, '');
      if (open.has(value)) refuse(path, 'a circular reference', '');
      open.add(value);
      if (Array.isArray(value)) {
        value.forEach((item, i) => check(item, `${path}[${i}]`, depth + 1, open));
      } else {
        const proto: unknown = Object.getPrototypeOf(value);
        if (proto !== Object.prototype && proto !== null) {
          refuse(path, describe(value), value instanceof Date ? ': store date.toISOString() (or getTime()) and convert it back when you read it' : ': copy the fields you need into a plain object');
        }
        for (const [k, v] of Object.entries(value)) check(v, `${path}.${k}`, depth + 1, open);
      }
      open.delete(value);
      return;
    }
  }
}

/** JSON text of `value`, or RAMPART_ERR_CACHE_VALUE naming the first part JSON cannot carry as it is. */
export function toJson(value: unknown): string {
  check(value, 'value', 0, new Set());
  return JSON.stringify(value);
}

// Parameterised SQL only. A query is built with the `sql` tag: every ${value}
// becomes a $n parameter, never text. Fragments nest (their parameters are
// renumbered), identifiers go through sql.ident (quoted and checked), and
// there is deliberately no `sql.raw`: the only way to put text into a query is
// a template literal written in the source, which the lint rule in
// eslint.config.js watches for concatenation.
import { DataError } from './errors.ts';

// Held by this module only: `new Sql(['…' + input], [])` elsewhere would be
// the `sql.raw` this module refuses to have, so the constructor demands it.
const INTERNAL = Symbol('rampart.sql.internal');

export class Sql {
  // A private field is a brand nothing outside the class can forge, unlike a
  // property that a look-alike object could copy.
  readonly #brand = true;
  readonly strings: readonly string[];
  readonly values: readonly unknown[];

  constructor(key: symbol, strings: readonly string[], values: readonly unknown[]) {
    if (key !== INTERNAL || strings.length !== values.length + 1) {
      throw new DataError('RAMPART_ERR_SQL_NOT_TEMPLATE', 'Sql fragments are made by the sql tag only: sql`select … where id = ${id}`, sql.ident(name), sql.join(fragments)');
    }
    this.strings = Object.freeze([...strings]);
    this.values = Object.freeze([...values]);
  }

  static isSql(value: unknown): value is Sql {
    return typeof value === 'object' && value !== null && #brand in value;
  }

  /** The text with $1…$n placeholders and the values for them, as `pg` takes them. */
  toQuery(): { text: string; values: unknown[] } {
    const values: unknown[] = [];
    const text = render(this, values);
    return { text, values };
  }
}

function render(fragment: Sql, values: unknown[]): string {
  let text = fragment.strings[0] ?? '';
  for (let i = 0; i < fragment.values.length; i++) {
    const value = fragment.values[i];
    if (isSql(value)) text += render(value, values);
    else {
      values.push(value);
      text += `$${values.length}`;
    }
    text += fragment.strings[i + 1] ?? '';
  }
  return text;
}

export function isSql(value: unknown): value is Sql {
  return Sql.isSql(value);
}

function isTemplate(strings: unknown): strings is TemplateStringsArray {
  // A tagged template's strings array is frozen and carries a frozen `raw` of
  // the same length; an array built at run time (or a string smuggled past the
  // types) is refused. This stops mistakes, not a determined forger: the lint
  // rule and review do the rest.
  if (!Array.isArray(strings) || !Object.isFrozen(strings)) return false;
  const raw = (strings as unknown as { raw?: unknown }).raw;
  return Array.isArray(raw) && Object.isFrozen(raw) && raw.length === strings.length;
}

function tag(strings: TemplateStringsArray, ...values: unknown[]): Sql {
  if (!isTemplate(strings)) throw new DataError('RAMPART_ERR_SQL_NOT_TEMPLATE', 'sql must be used as a tag: sql`select … where id = ${id}`');
  return new Sql(INTERNAL, strings, values);
}

// PostgreSQL identifiers (docs, 4.1.1): a letter or underscore, then letters,
// digits, underscores or dollar signs; at most NAMEDATALEN-1 = 63 bytes.
const IDENT = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;

/**
 * A quoted identifier (`"table"` or `"schema"."table"`); names outside
 * [A-Za-z0-9_$] are refused, not escaped. Quoting keeps case: `sql.ident('Users')`
 * is the table "Users", not users.
 */
function ident(...parts: string[]): Sql {
  if (parts.length === 0) throw new DataError('RAMPART_ERR_SQL_IDENT', 'sql.ident needs at least one name');
  for (const part of parts) {
    if (typeof part !== 'string' || !IDENT.test(part)) throw new DataError('RAMPART_ERR_SQL_IDENT', `not a plain SQL identifier: ${JSON.stringify(part)}; use letters, digits, _ and $ only (at most 63), starting with a letter or _`);
  }
  return new Sql(INTERNAL, [parts.map((p) => `"${p}"`).join('.')], []);
}

/** Fragments joined by a separator fragment (default `, `). */
function join(fragments: readonly Sql[], separator: Sql = comma): Sql {
  if (fragments.length === 0) return empty;
  const strings: string[] = [''];
  const values: unknown[] = [];
  fragments.forEach((fragment, i) => {
    if (i > 0) {
      strings.push('');
      values.push(separator);
    }
    strings.push('');
    values.push(fragment);
  });
  return new Sql(INTERNAL, strings, values);
}

const empty = new Sql(INTERNAL, [''], []);
const comma = new Sql(INTERNAL, [', '], []);

export const sql: typeof tag & { ident: typeof ident; join: typeof join; empty: Sql } = Object.assign(tag, { ident, join, empty });

// Parameterised SQL only. A query is built with the `sql` tag: every ${value}
// becomes a $n parameter, never text. Fragments nest (their parameters are
// renumbered), identifiers go through sql.ident (quoted and checked), and
// there is deliberately no `sql.raw`: the only way to put text into a query is
// a template literal written in the source, which the lint rule in
// eslint.config.js watches for concatenation.
import { DataError } from './errors.ts';

const SQL = Symbol('rampart.sql');

export class Sql {
  readonly [SQL] = true;
  readonly strings: readonly string[];
  readonly values: readonly unknown[];

  constructor(strings: readonly string[], values: readonly unknown[]) {
    this.strings = strings;
    this.values = values;
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
  return typeof value === 'object' && value !== null && (value as { [SQL]?: boolean })[SQL] === true;
}

function isTemplate(strings: unknown): strings is TemplateStringsArray {
  // A tagged template's strings array is frozen and carries `raw`; an array
  // built at run time (or a string smuggled past the types) is refused.
  return Array.isArray(strings) && Object.isFrozen(strings) && Array.isArray((strings as unknown as { raw?: unknown }).raw);
}

function tag(strings: TemplateStringsArray, ...values: unknown[]): Sql {
  if (!isTemplate(strings)) throw new DataError('RAMPART_ERR_SQL_NOT_TEMPLATE', 'sql must be used as a tag: sql`select … where id = ${id}`');
  return new Sql(strings, values);
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;

/** A quoted identifier (`"table"` or `"schema"."table"`); names outside [A-Za-z0-9_$] are refused, not escaped. */
function ident(...parts: string[]): Sql {
  for (const part of parts) {
    if (!IDENT.test(part)) throw new DataError('RAMPART_ERR_SQL_IDENT', `not a plain SQL identifier: ${JSON.stringify(part)}`);
  }
  return new Sql([parts.map((p) => `"${p}"`).join('.')], []);
}

/** Fragments joined by a separator fragment (default `, `). */
function join(fragments: readonly Sql[], separator: Sql = new Sql([', '], [])): Sql {
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
  return new Sql(strings, values);
}

const empty = new Sql([''], []);

export const sql: typeof tag & { ident: typeof ident; join: typeof join; empty: Sql } = Object.assign(tag, { ident, join, empty });

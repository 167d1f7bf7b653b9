// Name patterns of the cache options (`utm_*`, `*session*`): `*` matches any
// run of characters, everything else itself. Compiled once into one RegExp
// per list when the route is built, never per request.

function escape(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}

/** One RegExp matching any of `patterns` as a whole name; null for an empty list. */
export function compileGlobs(patterns: readonly string[], caseInsensitive: boolean): RegExp | null {
  if (patterns.length === 0) return null;
  const alternatives = patterns.map((p) => p.split('*').map(escape).join('.*'));
  return new RegExp(`^(?:${alternatives.join('|')})$`, caseInsensitive ? 'i' : '');
}

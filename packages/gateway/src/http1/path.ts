// Dot-segment removal (RFC 3986 §5.2.4) before routing: `/public/../admin`
// must not match the `/public` route and then reach `/admin` on a server that
// normalises. `%2e` counts as a dot, as servers decode it.

const NEEDS_WORK = /\/\.|%2e/i;

/** Returns the target with dot-segments removed (query untouched), or the same string. */
export function normalizeTarget(target: string): string {
  const q = target.indexOf('?');
  const path = q === -1 ? target : target.slice(0, q);
  if (!NEEDS_WORK.test(path)) return target;
  const segments = path.split('/');
  const out: string[] = [];
  for (let i = 1; i < segments.length; i++) {
    const seg = segments[i]!.replace(/%2e/gi, '.');
    const last = i === segments.length - 1;
    if (seg === '.') {
      if (last) out.push('');
    } else if (seg === '..') {
      out.pop();
      if (last) out.push('');
    } else {
      out.push(segments[i]!);
    }
  }
  const normalized = '/' + out.join('/');
  return q === -1 ? normalized : normalized + target.slice(q);
}

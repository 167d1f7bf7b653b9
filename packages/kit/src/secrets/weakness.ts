// What makes a production secret unusable, said without the value: a
// secret that is short, a default copied from a README, or a pattern typed
// by hand is guessable however the app uses it (OWASP ASVS 5.0 13.3.1;
// CWE-798, CWE-1392 "use of default credentials").

// Values people leave in .env files, compared with the whole value once
// lower-cased and stripped of separators. Relevant when minLength is lowered.
const DEFAULTS = new Set([
  'changeme', 'changeit', 'replaceme', 'secret', 'secretkey', 'mysecret', 'supersecret', 'password', 'passw0rd', 'admin',
  'development', 'dev', 'test', 'testing', 'staging', 'production', 'prod', 'example', 'default', 'placeholder', 'sample',
  'todo', 'fixme', 'tbd', 'null', 'undefined', 'none', 'empty', 'foo', 'bar', 'foobar', 'qwerty', 'letmein', 'keyboardcat',
]);

// Words that mark a value as hand-made wherever they appear. Six letters or
// more: a random base64 value of 44 characters contains a given six-letter
// word with a chance of about 4 in 100 million, so a real secret is not refused.
const MARKERS = ['changeme', 'changeit', 'replaceme', 'placeholder', 'secret', 'password', 'development', 'example', 'insecure', 'default', 'sample', 'xxxxxx', 'keyboardcat', 'notsecure', 'donotuse', 'dontuse'];

/** Why `value` is not a usable secret, or null. The text never contains the value. */
export function secretWeakness(value: string, minLength: number): string | null {
  const length = [...value].length;
  if (length < minLength) return `is too short: ${length} characters, at least ${minLength} are needed`;
  const folded = value.toLowerCase().replace(/[^a-z0-9]/g, '');
  if (DEFAULTS.has(folded)) return 'is a well-known default value';
  if (/^(.)\1*$/su.test(value)) return 'is one character repeated';
  // "abcabcabc…", "changeme" padded to length by repeating it.
  if (/^(.{2,16}?)\1+$/su.test(value)) return 'is one short pattern repeated';
  const marker = MARKERS.find((word) => folded.includes(word));
  if (marker !== undefined) return `looks like a placeholder (it contains the word "${marker}")`;
  if (new Set(value).size < 6) return 'uses fewer than 6 different characters';
  return null;
}

// Regenerates packages/kit/data/common-passwords.txt (plain JavaScript: a
// one-off tool outside the type-checked sources) from the password list of
// @zxcvbn-ts/language-common (MIT, see data/README.md). Run from the repo root:
//   node packages/kit/scripts/build-common-passwords.js
// Only entries of 8 or more code points after NFKC are kept: shorter ones are
// already refused by the length rule (ASVS 5.0 6.2.4: "top passwords which
// match the application's password policy"). Lower case, because the check
// compares the lower-cased candidate; sorted so that a diff shows real changes.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const packageJson = require.resolve('@zxcvbn-ts/language-common/package.json');
const source = path.join(path.dirname(packageJson), 'src', 'passwords.json');
const { version } = JSON.parse(readFileSync(packageJson, 'utf8'));
const list = JSON.parse(readFileSync(source, 'utf8'));
if (!Array.isArray(list)) throw new Error(`${source}: expected a JSON array`);

const kept = new Set();
for (const entry of list) {
  if (typeof entry !== 'string') continue;
  const password = entry.normalize('NFKC').toLowerCase();
  // One entry per line: an entry with a line break could not be read back.
  if (/[\r\n]/.test(password)) continue;
  if ([...password].length >= 8) kept.add(password);
}
const sorted = [...kept].sort();
const out = path.join(import.meta.dirname, '..', 'data', 'common-passwords.txt');
writeFileSync(out, `${sorted.join('\n')}\n`);
console.log(`${out}: ${sorted.length} passwords from @zxcvbn-ts/language-common ${version}`);

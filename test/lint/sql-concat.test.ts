// The no-SQL-concatenation selectors of eslint.config.js, run through ESLint's
// Node API with the repository's own config over test/fixtures/lint/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ESLint } from 'eslint';

const root = path.resolve(import.meta.dirname, '../..');
const fixtures = path.join(root, 'test/fixtures/lint');
const bad = path.join(fixtures, 'bad.ts');
const good = path.join(fixtures, 'good.ts');

/** The kind of SQL finding a message is, from its opening words. */
function kind(message: string): string {
  if (message.startsWith('SQL in a template literal')) return 'template';
  if (message.startsWith('SQL in a template with a tag')) return 'tag';
  if (message.startsWith('SQL built with +')) return 'plus';
  if (message.startsWith('A query built')) return 'query';
  return `unexpected: ${message}`;
}

// The fixtures are ignored by `eslint .`; `ignore: false` lints them anyway.
const eslint = new ESLint({ cwd: root, ignore: false });
const results = await eslint.lintFiles([bad, good]);
const resultFor = (file: string) => {
  const result = results.find((r) => r.filePath === file);
  assert.ok(result, `no result for ${file}`);
  return result;
};

test('every SQL concatenation pattern in the bad fixture is reported, on its line, and nothing else', async () => {
  const lines = (await readFile(bad, 'utf8')).split('\n');
  const expected = new Map<number, string[]>();
  lines.forEach((line, i) => {
    const marker = /\/\/ lint: (.+)$/.exec(line);
    if (marker?.[1]) expected.set(i + 1, marker[1].split(',').map((k) => k.trim()).sort());
  });
  assert.ok(expected.size >= 25, `the fixture lost its markers (${expected.size})`);

  const result = resultFor(bad);
  const other = result.messages.filter((m) => m.ruleId !== 'no-restricted-syntax');
  assert.deepEqual(other.map((m) => `${m.line}: ${m.ruleId ?? 'parse'} ${m.message}`), [], 'only the SQL rule fires in the fixture');
  const found = new Map<number, string[]>();
  for (const m of result.messages) {
    // A template spanning lines is reported where it starts; the marker sits on its last line.
    const line = m.endLine ?? m.line;
    found.set(line, [...(found.get(line) ?? []), kind(m.message)].sort());
  }
  assert.deepEqual(Object.fromEntries([...found].sort(([a], [b]) => a - b)), Object.fromEntries(expected));
});

test('the messages say what to use instead', () => {
  for (const m of resultFor(bad).messages) {
    assert.ok(m.message.includes('sql`SELECT … WHERE id = ${id}`') && m.message.includes('sql.ident()'), m.message);
  }
});

test('queries built with the sql tag, and English that starts with a keyword, are clean', () => {
  const result = resultFor(good);
  assert.deepEqual(result.messages.map((m) => `${m.line}:${m.column} ${m.ruleId ?? 'parse'}: ${m.message}`), []);
});

test('the fixtures are left out of the normal lint run', async () => {
  const normal = new ESLint({ cwd: root });
  assert.equal(await normal.isPathIgnored(bad), true);
  assert.equal(await normal.isPathIgnored(good), true);
  assert.equal(await normal.isPathIgnored(path.join(root, 'packages/data/src/sql.ts')), false);
});

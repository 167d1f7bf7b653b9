import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KitError } from '../errors.ts';
import { loadSecrets } from './load.ts';
import { secretWeakness } from './weakness.ts';

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rampart-secrets-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const strong = () => randomBytes(32).toString('base64');

test('production: every problem in one RAMPART_ERR_SECRET, each with the command that fixes it, no value printed', (t) => {
  const dir = path.join(tempDir(t), '.rampart');
  const env = {
    NODE_ENV: 'production',
    CSRF_SECRET: 'short-Q7zR',
    RESET_SECRET: 'changeme'.repeat(5),
    API_PEPPER: 'x'.repeat(40),
    COOKIE_SECRET: 'our-development-value-do-not-use-1234567890',
    EMPTY_SECRET: '',
    GOOD_SECRET: strong(),
  };
  let error: unknown;
  try {
    loadSecrets({ names: ['SESSION_SECRET', 'CSRF_SECRET', 'RESET_SECRET', 'API_PEPPER', 'COOKIE_SECRET', 'EMPTY_SECRET', 'GOOD_SECRET'], env, dir });
  } catch (err) {
    error = err;
  }
  assert.ok(error instanceof KitError && error.code === 'RAMPART_ERR_SECRET');
  const message = error.message;
  assert.match(message, /^6 of the app's secrets are not fit for production/);
  assert.match(message, /- SESSION_SECRET is not set/);
  assert.match(message, /- CSRF_SECRET is too short: 10 characters, at least 32 are needed/);
  assert.match(message, /- RESET_SECRET is one short pattern repeated/);
  assert.match(message, /- API_PEPPER is one character repeated/);
  assert.match(message, /- COOKIE_SECRET looks like a placeholder \(it contains the word "development"\)/);
  assert.match(message, /- EMPTY_SECRET is not set/);
  assert.ok(message.includes('export SESSION_SECRET=$(openssl rand -base64 32)'));
  assert.ok(message.includes('export CSRF_SECRET=$(openssl rand -base64 32)'));
  assert.doesNotMatch(message, /GOOD_SECRET/);
  for (const value of Object.values(env).filter((v) => v.length > 0 && v !== 'production')) {
    assert.ok(!message.includes(value), 'a value was printed');
  }
  assert.equal(existsSync(dir), false, 'production never writes a secrets file');
});

test('production: strong values from the environment are returned as they are', (t) => {
  const dir = path.join(tempDir(t), '.rampart');
  const env = { NODE_ENV: 'production', SESSION_SECRET: strong(), CSRF_SECRET: randomBytes(32).toString('hex') };
  assert.deepEqual(loadSecrets({ names: ['SESSION_SECRET', 'CSRF_SECRET'], env, dir }), { SESSION_SECRET: env.SESSION_SECRET, CSRF_SECRET: env.CSRF_SECRET });
  assert.throws(() => loadSecrets({ names: ['SESSION_SECRET'], env, dir, minLength: 64 }), /SESSION_SECRET is too short: 44 characters, at least 64 are needed[^]*openssl rand -base64 48/);
  assert.equal(existsSync(dir), false);
});

test('weakness rules: known defaults and patterns are caught, 2000 random values are not', () => {
  for (const value of ['changeme', 'password', 'Development', 'test', 'foobar', 'change-me']) assert.equal(secretWeakness(value, 1), 'is a well-known default value', value);
  assert.equal(secretWeakness('abcabcabcabcabcabcabcabcabcabcabcabc', 32), 'is one short pattern repeated');
  assert.equal(secretWeakness('aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbbbbb', 32), 'uses fewer than 6 different characters');
  assert.match(secretWeakness('please-replace-me-with-a-real-value-now!', 32) ?? '', /"replaceme"/);
  assert.match(secretWeakness('ThisIsMySuperSecretKeyForJwtSigning2024', 32) ?? '', /"secret"/);
  for (let i = 0; i < 1000; i++) {
    assert.equal(secretWeakness(randomBytes(32).toString('base64'), 32), null);
    assert.equal(secretWeakness(randomBytes(32).toString('base64url'), 32), null);
  }
});

test('development: the environment wins; a missing secret is generated once into <dir>/secrets.json (0600)', (t) => {
  const dir = path.join(tempDir(t), 'nested', '.rampart');
  const env = { SESSION_SECRET: 'short but fine in development' };
  const first = loadSecrets({ names: ['SESSION_SECRET', 'CSRF_SECRET'], env, dir });
  assert.equal(first.SESSION_SECRET, 'short but fine in development');
  assert.match(first.CSRF_SECRET ?? '', /^[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url');
  const file = path.join(dir, 'secrets.json');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { CSRF_SECRET: first.CSRF_SECRET }, 'values from the environment are not copied to the file');

  const again = loadSecrets({ names: ['CSRF_SECRET', 'RESET_SECRET'], env: {}, dir });
  assert.equal(again.CSRF_SECRET, first.CSRF_SECRET, 'kept across restarts');
  assert.match(again.RESET_SECRET ?? '', /^[A-Za-z0-9_-]{43}$/);
  assert.notEqual(again.RESET_SECRET, again.CSRF_SECRET);
  assert.deepEqual(Object.keys(JSON.parse(readFileSync(file, 'utf8')) as object).sort(), ['CSRF_SECRET', 'RESET_SECRET']);
  assert.equal(loadSecrets({ names: ['CSRF_SECRET'], env: { CSRF_SECRET: 'from env' }, dir }).CSRF_SECRET, 'from env');
  assert.deepEqual(readdirSync(dir), ['secrets.json'], 'no temp file left behind');
});

test('development: a corrupt secrets.json is an error that says to delete it; a .next left by a crash is cleared', (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'secrets.json');
  writeFileSync(file, '{"SESSION_SECRET": 42}');
  assert.throws(() => loadSecrets({ names: ['SESSION_SECRET'], env: {}, dir }), (err: unknown) => err instanceof KitError && err.code === 'RAMPART_ERR_SECRET' && err.message.includes('delete it'));

  writeFileSync(file, JSON.stringify({ SESSION_SECRET: 'kept' }));
  writeFileSync(`${file}.next`, JSON.stringify({ SESSION_SECRET: 'kept', HALF: 'written by a process that died' }));
  const past = new Date(Date.now() - 60_000);
  utimesSync(`${file}.next`, past, past);
  const values = loadSecrets({ names: ['SESSION_SECRET', 'CSRF_SECRET'], env: {}, dir });
  assert.equal(values.SESSION_SECRET, 'kept');
  assert.match(values.CSRF_SECRET ?? '', /^[A-Za-z0-9_-]{43}$/);
  assert.deepEqual(readdirSync(dir), ['secrets.json']);
});

test('loadSecrets refuses bad options', () => {
  const isOptions = (err: unknown) => err instanceof KitError && err.code === 'RAMPART_ERR_SECRET_OPTIONS';
  assert.throws(() => loadSecrets({ names: [] }), isOptions);
  assert.throws(() => loadSecrets({ names: ['SESSION-SECRET'] }), isOptions);
  assert.throws(() => loadSecrets({ names: ['A', 'A'] }), isOptions);
  assert.throws(() => loadSecrets({ names: ['A'], minLength: 8 }), isOptions);
});

// loadSecrets: the app's secrets (session, CSRF, reset-token keys…) by name.
//
// Production (NODE_ENV=production): from the environment only, and refused
// unless every one is set, long enough and not a default or placeholder
// (OWASP ASVS 5.0 13.3.1: secrets are not in source code or build
// artifacts). Every problem is reported in one error, so one deploy fixes
// them all, with the command that makes a good value; no value is printed.
//
// Development (anything else): the environment wins; a missing secret is
// generated once (32 random bytes) and kept in `<dir>/secrets.json`, so that
// sessions survive restarts and every local instance agrees.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { KitError } from '../errors.ts';
import { readOrCreateSecrets } from './secrets-file.ts';
import { secretWeakness } from './weakness.ts';

export interface LoadSecretsOptions {
  /** Environment variable names, e.g. ['SESSION_SECRET', 'CSRF_SECRET']. */
  names: readonly string[];
  /** Folder of secrets.json in development, relative to the working directory. Default '.rampart'. */
  dir?: string;
  /** Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Fewest characters a production secret may have. Default 32. */
  minLength?: number;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

// Array.isArray would narrow a readonly string[] to any[].
function isArray(value: unknown): boolean {
  return Array.isArray(value);
}

function optionsError(message: string): KitError {
  return new KitError('RAMPART_ERR_SECRET_OPTIONS', `loadSecrets: ${message}`);
}

function fromProduction(names: readonly string[], env: NodeJS.ProcessEnv, minLength: number): Record<string, string> {
  const problems: Array<{ name: string; weakness: string }> = [];
  for (const name of names) {
    const value = env[name];
    const weakness = value === undefined || value === '' ? 'is not set' : secretWeakness(value, minLength);
    if (weakness !== null) problems.push({ name, weakness });
  }
  if (problems.length > 0) {
    // base64 of n bytes is 4⌈n/3⌉ characters: enough bytes for minLength, and never fewer than 32 (256 bits).
    const bytes = Math.max(32, Math.ceil((minLength * 3) / 4));
    throw new KitError(
      'RAMPART_ERR_SECRET',
      [
        `${problems.length} of the app's secrets ${problems.length === 1 ? 'is' : 'are'} not fit for production (NODE_ENV=production):`,
        ...problems.map(({ name, weakness }) => `  - ${name} ${weakness}`),
        `Set each to a random value of at least ${minLength} characters in the environment of the app, for example:`,
        ...problems.map(({ name }) => `  export ${name}=$(openssl rand -base64 ${bytes})`),
        'or from your secrets manager. Values are never printed.',
      ].join('\n'),
    );
  }
  return Object.fromEntries(names.map((name) => [name, env[name] as string]));
}

export function loadSecrets(options: LoadSecretsOptions): Record<string, string> {
  const names = options?.names;
  if (!isArray(names) || names.length === 0) throw optionsError('names must be a non-empty array of environment variable names');
  for (const name of names) {
    if (typeof name !== 'string' || !NAME.test(name)) throw optionsError(`${JSON.stringify(name)} is not an environment variable name (letters, digits and _, not starting with a digit)`);
  }
  if (new Set(names).size !== names.length) throw optionsError('names has a name twice');
  const minLength = options.minLength ?? 32;
  if (!Number.isSafeInteger(minLength) || minLength < 16) throw optionsError(`minLength must be an integer of at least 16, got ${String(minLength)}`);
  const env = options.env ?? process.env;

  if (env.NODE_ENV === 'production') return fromProduction(names, env, minLength);

  const values: Record<string, string> = {};
  const missing: string[] = [];
  for (const name of names) {
    const value = env[name];
    if (value !== undefined && value !== '') values[name] = value;
    else missing.push(name);
  }
  if (missing.length > 0) {
    const file = path.resolve(options.dir ?? '.rampart', 'secrets.json');
    Object.assign(values, readOrCreateSecrets(file, missing, () => randomBytes(32).toString('base64url')));
  }
  return Object.fromEntries(names.map((name) => [name, values[name] as string]));
}

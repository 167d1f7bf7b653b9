// @rampart/kit: Fastify plugins for apps behind rampart, secure by default.
// One folder per plugin; docs/kit.md describes each with its options.
import path from 'node:path';

export { KitError } from './errors.ts';
export * from './sessions/index.ts';
export * from './csrf/index.ts';
export * from './passwords/index.ts';
export * from './auth/index.ts';
export * from './api-keys/index.ts';
export * from './secrets/index.ts';
export * from './views/index.ts';
export * from './security-headers/index.ts';
export * from './validators/index.ts';
export * from './static/index.ts';
export * from './cache/index.ts';

/** The kit's own SQL migrations (sessions, revocations, API keys), to list before the app's. */
export const KIT_MIGRATIONS: string = path.join(import.meta.dirname, '..', 'migrations');

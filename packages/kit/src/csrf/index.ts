// CSRF protection: Fetch Metadata, Origin and a session-bound token.
// See docs/kit/csrf.md.
export { kitCsrf, type KitCsrfOptions } from './kit-csrf.ts';

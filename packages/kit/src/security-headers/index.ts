export { kitSecurityHeaders } from './plugin.ts';
export { compileSecurityHeaders, CSP_NONCE, DEFAULT_CSP_DIRECTIVES, DEFAULT_PERMISSIONS, type SecurityHeadersOptions, type CspDirectives } from './options.ts';

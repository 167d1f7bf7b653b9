// Options of kitSecurityHeaders and their defaults, checked once when the
// plugin is registered. Defaults follow the OWASP Secure Headers Project
// (owasp.org/www-project-secure-headers, ci/headers_add.json) where it and
// helmet differ; every header can be changed or turned off with `false`.
import { KitError } from '../errors.ts';

/** In a CSP source list, replaced by `'nonce-<request.cspNonce>'` for each request. */
export const CSP_NONCE = "'nonce'";

export type CspDirectives = Record<string, readonly string[] | boolean | null>;

export const DEFAULT_CSP_DIRECTIVES: Readonly<Record<string, readonly string[]>> = Object.freeze({
  'default-src': ["'self'"],
  // A nonce plus 'strict-dynamic' is the "strict CSP" of CSP Level 3 §8.2: an
  // injected <script> has no nonce, and host allowlists (bypassable through
  // JSONP endpoints on allowed hosts) are ignored.
  'script-src': [CSP_NONCE, "'strict-dynamic'"],
  'style-src': ["'self'", CSP_NONCE],
  'object-src': ["'none'"],
  'base-uri': ["'none'"],
  'frame-ancestors': ["'none'"],
  'form-action': ["'self'"],
});

// Powerful features nobody in a server-rendered app needs; `()` is the empty
// allowlist (Permissions Policy §5.2). The list is the OWASP one without the
// features browsers no longer know (they only add console warnings).
export const DEFAULT_PERMISSIONS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  accelerometer: [],
  autoplay: [],
  camera: [],
  'display-capture': [],
  'encrypted-media': [],
  fullscreen: [],
  geolocation: [],
  gyroscope: [],
  hid: [],
  'idle-detection': [],
  magnetometer: [],
  microphone: [],
  midi: [],
  payment: [],
  'picture-in-picture': [],
  'publickey-credentials-get': [],
  'screen-wake-lock': [],
  serial: [],
  'sync-xhr': [],
  usb: [],
  'xr-spatial-tracking': [],
});

export interface SecurityHeadersOptions {
  /**
   * Content-Security-Policy. `directives` are merged over DEFAULT_CSP_DIRECTIVES:
   * an array replaces that directive, `true` adds a directive without value,
   * `false`/`null` removes it. CSP_NONCE in a list stands for this request's
   * nonce. `upgrade-insecure-requests` is added over HTTPS unless set here.
   * `reportOnly` sends Content-Security-Policy-Report-Only instead (try a
   * stricter policy before enforcing it). Default: enforced, the defaults.
   */
  contentSecurityPolicy?: false | { directives?: CspDirectives; reportOnly?: boolean };
  /** Strict-Transport-Security, sent only on HTTPS requests (RFC 6797 §7.2). Default 2 years, includeSubDomains, no preload. */
  strictTransportSecurity?: false | { maxAge?: number; includeSubDomains?: boolean; preload?: boolean };
  /** Default strict-origin-when-cross-origin (OWASP): other sites see the origin, never the path or query. */
  referrerPolicy?: false | 'no-referrer' | 'same-origin' | 'strict-origin' | 'strict-origin-when-cross-origin' | 'origin' | 'origin-when-cross-origin';
  /** Default DENY; for browsers without frame-ancestors. */
  xFrameOptions?: false | 'DENY' | 'SAMEORIGIN';
  /** Default nosniff. */
  xContentTypeOptions?: boolean;
  /** Default same-origin. */
  crossOriginOpenerPolicy?: false | 'same-origin' | 'same-origin-allow-popups' | 'noopener-allow-popups' | 'unsafe-none';
  /** Default same-origin. */
  crossOriginResourcePolicy?: false | 'same-origin' | 'same-site' | 'cross-origin';
  /** Default off: require-corp breaks every cross-origin image or font without CORP; turn on when the app needs cross-origin isolation. */
  crossOriginEmbedderPolicy?: false | 'require-corp' | 'credentialless';
  /** Merged over DEFAULT_PERMISSIONS: feature → allowlist (`[]` none, `['self']`, origins); `null` drops a feature. */
  permissionsPolicy?: false | Record<string, readonly string[] | null>;
  /** X-DNS-Prefetch-Control: off by default (prefetching leaks which links a page has). */
  xDnsPrefetchControl?: false | 'off' | 'on';
  /** X-Permitted-Cross-Domain-Policies: none by default (Flash/Acrobat cross-domain files). */
  xPermittedCrossDomainPolicies?: false | 'none' | 'master-only' | 'by-content-type' | 'all';
  /**
   * X-XSS-Protection: '0' by default. OWASP: the old XSS auditors could be
   * abused to remove chosen scripts from a page, and modern browsers ignore
   * the header; sending 0 turns the auditor off where one still exists.
   */
  xXssProtection?: false | '0';
}

export interface CompiledHeaders {
  /** Sent on every response. */
  readonly always: ReadonlyArray<readonly [string, string]>;
  /** Sent on HTTPS requests only. */
  readonly https: ReadonlyArray<readonly [string, string]>;
  /**
   * `http`/`https`: the policy split around the nonce placeholder, joined
   * with each request's nonce. `shared`: the same policy without any nonce,
   * for responses a shared cache may store and replay (see the plugin).
   */
  readonly csp: null | {
    readonly name: string;
    readonly http: readonly string[];
    readonly https: readonly string[];
    readonly shared: { readonly http: string; readonly https: string };
  };
}

function invalid(message: string): never {
  throw new KitError('RAMPART_ERR_SECURITY_HEADERS_OPTIONS', message);
}

function checkValue(name: string, value: string): string {
  // A CR or LF would let a misconfiguration split the response (RFC 9110 §5.5).
  if (/[\r\n\0]/.test(value)) invalid(`${name}: header values cannot contain CR, LF or NUL`);
  return value;
}

const DIRECTIVE_NAME = /^[a-z][a-z-]*$/;

function compileCsp(directives: CspDirectives | undefined, https: boolean, withNonce = true): string[] {
  const merged = new Map<string, readonly string[] | true>(Object.entries(DEFAULT_CSP_DIRECTIVES));
  if (https) merged.set('upgrade-insecure-requests', true);
  for (const [name, value] of Object.entries(directives ?? {})) {
    if (!DIRECTIVE_NAME.test(name)) invalid(`contentSecurityPolicy: ${JSON.stringify(name)} is not a directive name`);
    if (value === null || value === false) merged.delete(name);
    else if (value === true) merged.set(name, true);
    else {
      for (const source of value) {
        if (/[;,\s]/.test(source) || source === '') invalid(`contentSecurityPolicy: ${name} has the source ${JSON.stringify(source)}; one source per array item, without ; , or spaces`);
      }
      merged.set(name, value);
    }
  }
  if (!withNonce) {
    // A source list left empty matches nothing, which `'none'` says
    // explicitly (CSP Level 3 §2.3.1). 'strict-dynamic' alone allows no
    // script either: it makes browsers ignore 'self' and hosts (§8.2).
    for (const [name, value] of merged) {
      if (value === true || !value.includes(CSP_NONCE)) continue;
      const rest = value.filter((source) => source !== CSP_NONCE);
      merged.set(name, rest.length === 0 ? ["'none'"] : rest);
    }
  }
  const text = [...merged].map(([name, value]) => (value === true ? name : [name, ...value].join(' '))).join('; ');
  // Split around the nonce placeholder so that each request only joins strings.
  return checkValue('Content-Security-Policy', text).split(CSP_NONCE);
}

function allowlist(feature: string, origins: readonly string[]): string {
  const items = origins.map((o) => {
    if (o === 'self' || o === '*' || o === 'src') return o;
    if (!/^https?:\/\/[^\s"]+$/.test(o)) invalid(`permissionsPolicy: ${feature} has ${JSON.stringify(o)}; use 'self', '*' or an origin like https://example.com`);
    return `"${o}"`;
  });
  return `${feature}=(${items.join(' ')})`;
}

export function compileSecurityHeaders(options: SecurityHeadersOptions = {}): CompiledHeaders {
  const always: Array<[string, string]> = [];
  const https: Array<[string, string]> = [];
  const add = (name: string, value: string | false | undefined) => {
    if (value !== false && value !== undefined) always.push([name, checkValue(name, value)]);
  };

  let csp: CompiledHeaders['csp'] = null;
  if (options.contentSecurityPolicy !== false) {
    const { directives, reportOnly = false } = options.contentSecurityPolicy ?? {};
    const explicitUpgrade = directives !== undefined && 'upgrade-insecure-requests' in directives;
    csp = {
      name: reportOnly ? 'content-security-policy-report-only' : 'content-security-policy',
      http: compileCsp(directives, false),
      https: compileCsp(directives, !explicitUpgrade),
      shared: { http: compileCsp(directives, false, false).join(''), https: compileCsp(directives, !explicitUpgrade, false).join('') },
    };
  }

  if (options.strictTransportSecurity !== false) {
    const { maxAge = 63_072_000, includeSubDomains = true, preload = false } = options.strictTransportSecurity ?? {};
    if (!Number.isInteger(maxAge) || maxAge < 0) invalid('strictTransportSecurity.maxAge must be a whole number of seconds ≥ 0');
    if (preload && (maxAge < 31_536_000 || !includeSubDomains)) invalid('strictTransportSecurity.preload needs maxAge ≥ 31536000 and includeSubDomains (hstspreload.org)');
    https.push(['strict-transport-security', `max-age=${maxAge}${includeSubDomains ? '; includeSubDomains' : ''}${preload ? '; preload' : ''}`]);
  }

  add('x-content-type-options', options.xContentTypeOptions === false ? false : 'nosniff');
  add('referrer-policy', options.referrerPolicy ?? 'strict-origin-when-cross-origin');
  add('x-frame-options', options.xFrameOptions ?? 'DENY');
  add('cross-origin-opener-policy', options.crossOriginOpenerPolicy ?? 'same-origin');
  add('cross-origin-resource-policy', options.crossOriginResourcePolicy ?? 'same-origin');
  add('cross-origin-embedder-policy', options.crossOriginEmbedderPolicy ?? false);
  if (options.permissionsPolicy !== false) {
    const merged = new Map<string, readonly string[]>(Object.entries(DEFAULT_PERMISSIONS));
    for (const [feature, origins] of Object.entries(options.permissionsPolicy ?? {})) {
      if (!DIRECTIVE_NAME.test(feature)) invalid(`permissionsPolicy: ${JSON.stringify(feature)} is not a feature name`);
      if (origins === null) merged.delete(feature);
      else merged.set(feature, origins);
    }
    if (merged.size > 0) add('permissions-policy', [...merged].map(([f, o]) => allowlist(f, o)).join(', '));
  }
  add('x-dns-prefetch-control', options.xDnsPrefetchControl ?? 'off');
  add('x-permitted-cross-domain-policies', options.xPermittedCrossDomainPolicies ?? 'none');
  add('x-xss-protection', options.xXssProtection ?? '0');

  return { always, https, csp };
}

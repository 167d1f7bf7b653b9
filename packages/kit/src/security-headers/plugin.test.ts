import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { type FastifyReply, type FastifyServerOptions } from 'fastify';
import { kitSecurityHeaders, sharedCacheable } from './plugin.ts';
import { CSP_NONCE, DEFAULT_CSP_DIRECTIVES, compileSecurityHeaders, type SecurityHeadersOptions } from './options.ts';
import { kitViews, html } from '../views/index.ts';
import { KitError } from '../errors.ts';

async function start(options?: SecurityHeadersOptions, server: FastifyServerOptions = {}, viewsFirst = true) {
  const app = Fastify(server);
  if (viewsFirst) await app.register(kitViews);
  await app.register(kitSecurityHeaders, options ?? {});
  if (!viewsFirst) await app.register(kitViews);
  app.get('/', (request, reply) => reply.html(html`<script nonce="${request.cspNonce}">1</script>`));
  app.get('/framed', (_request, reply) => reply.header('x-frame-options', 'SAMEORIGIN').send('ok'));
  app.get('/powered', (_request, reply) => reply.header('x-powered-by', 'PHP/5.2').send('ok'));
  app.get('/boom', () => {
    throw new Error('boom');
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  return { app, base: `http://127.0.0.1:${port}` };
}

const nonceOf = (body: string) => /nonce="([^"]+)"/.exec(body)?.[1];

test('defaults on plain HTTP: strict CSP with this request\'s nonce, no HSTS, no upgrade-insecure-requests', async (t) => {
  const { app, base } = await start();
  t.after(() => app.close());
  const res = await fetch(base);
  const nonce = nonceOf(await res.text());
  assert.ok(nonce);
  assert.equal(
    res.headers.get('content-security-policy'),
    `default-src 'self'; script-src 'nonce-${nonce}' 'strict-dynamic'; style-src 'self' 'nonce-${nonce}'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'`,
  );
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(res.headers.get('referrer-policy'), 'strict-origin-when-cross-origin');
  assert.equal(res.headers.get('x-frame-options'), 'DENY');
  assert.equal(res.headers.get('cross-origin-opener-policy'), 'same-origin');
  assert.equal(res.headers.get('cross-origin-resource-policy'), 'same-origin');
  assert.equal(res.headers.get('cross-origin-embedder-policy'), null);
  assert.match(res.headers.get('permissions-policy') ?? '', /^accelerometer=\(\), .*camera=\(\), .*geolocation=\(\), .*microphone=\(\)/);
  assert.equal(res.headers.get('x-dns-prefetch-control'), 'off');
  assert.equal(res.headers.get('x-permitted-cross-domain-policies'), 'none');
  assert.equal(res.headers.get('x-xss-protection'), '0');
  assert.equal(res.headers.get('strict-transport-security'), null);
  assert.equal(res.headers.get('x-powered-by'), null);
});

test('over HTTPS (X-Forwarded-Proto from a trusted proxy): HSTS and upgrade-insecure-requests', async (t) => {
  const { app, base } = await start(undefined, { trustProxy: '127.0.0.1' });
  t.after(() => app.close());
  const res = await fetch(base, { headers: { 'x-forwarded-proto': 'https' } });
  assert.equal(res.headers.get('strict-transport-security'), 'max-age=63072000; includeSubDomains');
  assert.match(res.headers.get('content-security-policy') ?? '', /; upgrade-insecure-requests$/);
});

test('X-Forwarded-Proto from an untrusted peer does not turn HSTS on', async (t) => {
  const { app, base } = await start();
  t.after(() => app.close());
  const res = await fetch(base, { headers: { 'x-forwarded-proto': 'https' } });
  assert.equal(res.headers.get('strict-transport-security'), null);
  assert.doesNotMatch(res.headers.get('content-security-policy') ?? '', /upgrade-insecure-requests/);
});

test('the nonce in the policy is the one on the page, also when the headers plugin is registered first', async (t) => {
  const { app, base } = await start(undefined, {}, false);
  t.after(() => app.close());
  const first = await fetch(base);
  const second = await fetch(base);
  const [n1, n2] = [nonceOf(await first.text()), nonceOf(await second.text())];
  assert.ok(n1 && n2 && n1 !== n2);
  assert.match(first.headers.get('content-security-policy') ?? '', new RegExp(`script-src 'nonce-${n1?.replace(/[+/]/g, '\\$&')}'`));
  assert.match(second.headers.get('content-security-policy') ?? '', new RegExp(`script-src 'nonce-${n2?.replace(/[+/]/g, '\\$&')}'`));
});

test('404 and 500 answers carry the headers too', async (t) => {
  const { app, base } = await start();
  t.after(() => app.close());
  for (const path of ['/nowhere', '/boom']) {
    const res = await fetch(base + path);
    assert.ok(res.status === 404 || res.status === 500);
    assert.match(res.headers.get('content-security-policy') ?? '', /^default-src 'self'/, path);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff', path);
  }
});

test('a route that sets a header itself keeps its value; X-Powered-By is removed even when a route sets it', async (t) => {
  const { app, base } = await start();
  t.after(() => app.close());
  assert.equal((await fetch(`${base}/framed`)).headers.get('x-frame-options'), 'SAMEORIGIN');
  assert.equal((await fetch(`${base}/powered`)).headers.get('x-powered-by'), null);
});

test('every header can be turned off or changed; CSP directives extend and remove; report-only', async (t) => {
  const { app, base } = await start(
    {
      contentSecurityPolicy: {
        reportOnly: true,
        directives: { 'img-src': ["'self'", 'data:'], 'script-src': [...(DEFAULT_CSP_DIRECTIVES['script-src'] ?? []), 'https://cdn.example'], 'base-uri': null, 'upgrade-insecure-requests': true },
      },
      referrerPolicy: 'no-referrer',
      xFrameOptions: false,
      xXssProtection: false,
      crossOriginEmbedderPolicy: 'require-corp',
      permissionsPolicy: { fullscreen: ['self', 'https://video.example'], camera: null },
      strictTransportSecurity: false,
    },
    { trustProxy: true },
  );
  t.after(() => app.close());
  const res = await fetch(base, { headers: { 'x-forwarded-proto': 'https' } });
  const nonce = nonceOf(await res.text());
  assert.equal(res.headers.get('content-security-policy'), null);
  assert.equal(
    res.headers.get('content-security-policy-report-only'),
    `default-src 'self'; script-src 'nonce-${nonce}' 'strict-dynamic' https://cdn.example; style-src 'self' 'nonce-${nonce}'; object-src 'none'; frame-ancestors 'none'; form-action 'self'; img-src 'self' data:; upgrade-insecure-requests`,
  );
  assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
  assert.equal(res.headers.get('x-frame-options'), null);
  assert.equal(res.headers.get('x-xss-protection'), null);
  assert.equal(res.headers.get('cross-origin-embedder-policy'), 'require-corp');
  assert.equal(res.headers.get('strict-transport-security'), null);
  const permissions = res.headers.get('permissions-policy') ?? '';
  assert.match(permissions, /fullscreen=\(self "https:\/\/video\.example"\)/);
  assert.doesNotMatch(permissions, /camera/);
});

test('bad options are refused when the plugin is registered, not during a request', async () => {
  const refused = (options: SecurityHeadersOptions) =>
    assert.throws(() => compileSecurityHeaders(options), (err: unknown) => err instanceof KitError && err.code === 'RAMPART_ERR_SECURITY_HEADERS_OPTIONS', JSON.stringify(options));
  refused({ contentSecurityPolicy: { directives: { 'script-src': ["'self'; script-src *"] } } });
  refused({ contentSecurityPolicy: { directives: { 'Script Src': ["'self'"] } } });
  refused({ referrerPolicy: 'no-referrer\r\nSet-Cookie: a=b' as 'no-referrer' });
  refused({ permissionsPolicy: { camera: ['evil"'] } });
  refused({ strictTransportSecurity: { maxAge: 300, preload: true } });
  const app = Fastify();
  await assert.rejects(async () => {
    await app.register(kitSecurityHeaders, { xFrameOptions: 'DENY\n' as 'DENY' });
  }, (err: unknown) => err instanceof KitError);
  await app.close();
});

test('CSP_NONCE can be used in any directive', () => {
  const { csp } = compileSecurityHeaders({ contentSecurityPolicy: { directives: { 'img-src': [CSP_NONCE] } } });
  assert.equal(csp?.http.join('N').endsWith("img-src N"), true);
});

test('a response a shared cache may replay gets the policy without a nonce; per-user and no-cache responses keep theirs', async (t) => {
  const app = Fastify();
  await app.register(kitSecurityHeaders);
  await app.register(kitViews);
  const page = (cacheControl: string | null) => (_request: unknown, reply: FastifyReply) => {
    if (cacheControl !== null) reply.header('cache-control', cacheControl);
    return reply.html(html`<p>cached</p>`);
  };
  app.get('/public', page('public, max-age=0, s-maxage=5, stale-while-revalidate=10'));
  app.get('/smaxage', page('s-maxage=5'));
  app.get('/maxage', page('max-age=60'));
  app.get('/expires', (_request, reply) => reply.header('expires', 'Thu, 01 Jan 2099 00:00:00 GMT').html(html`<p>x</p>`));
  app.get('/private', page('private, max-age=60'));
  app.get('/nostore', page('public, no-store'));
  app.get('/nocache', page('no-cache'));
  app.get('/none', page(null));
  app.get('/own', (_request, reply) => reply.header('cache-control', 'public, max-age=60').header('content-security-policy', "default-src 'none'").send('x'));
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(() => app.close());
  const { port } = app.server.address() as { port: number };
  const csp = async (path: string) => (await fetch(`http://127.0.0.1:${port}${path}`)).headers.get('content-security-policy') ?? '';
  const shared = "default-src 'self'; script-src 'strict-dynamic'; style-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";
  for (const path of ['/public', '/smaxage', '/maxage', '/expires']) assert.equal(await csp(path), shared, path);
  for (const path of ['/private', '/nostore', '/nocache', '/none']) assert.match(await csp(path), /script-src 'nonce-[A-Za-z0-9+/=]{24}' 'strict-dynamic'/, path);
  assert.equal(await csp('/own'), "default-src 'none'", 'a policy the route wrote itself is left alone');
});

test('without a nonce, a directive whose only source was the nonce becomes \'none\'; over HTTPS the shared policy keeps upgrade-insecure-requests', () => {
  const { csp } = compileSecurityHeaders({ contentSecurityPolicy: { directives: { 'script-src': [CSP_NONCE], 'img-src': ["'self'", CSP_NONCE] } } });
  assert.match(csp?.shared.http ?? '', /script-src 'none'/);
  assert.match(csp?.shared.http ?? '', /img-src 'self'(;|$)/);
  assert.doesNotMatch(csp?.shared.http ?? '', /nonce/);
  assert.match(csp?.shared.https ?? '', /; upgrade-insecure-requests(;|$)/);
});

test('sharedCacheable follows RFC 9111: public, s-maxage, max-age > 0 or Expires, unless private, no-store or no-cache', () => {
  const cases: [string | undefined, boolean, boolean][] = [
    ['public', false, true],
    ['s-maxage=10', false, true],
    ['Max-Age=60', false, true],
    ['max-age=0', false, false],
    [undefined, true, true],
    [undefined, false, false],
    ['public, private', false, false],
    ['public, no-store', false, false],
    ['public, max-age=60, no-cache', false, false],
    ['private="set-cookie", max-age=60', false, false],
  ];
  for (const [value, expires, expected] of cases) assert.equal(sharedCacheable(value, expires), expected, `${value} ${expires}`);
});

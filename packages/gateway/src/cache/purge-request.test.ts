import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../config/load.ts';
import { purgeTarget } from './purge-request.ts';

const config = parseConfig(`upstreams:
  app:
    servers: ["http://127.0.0.1:3001"]
routes:
  - path: /
    upstream: app
    cache: true
  - path: /shared
    upstream: app
    cache: { key: { host: false, query: as-sent } }
  - path: /plain
    upstream: app
`);
const routeFor = (host: string, target: string) => {
  let best = null;
  for (const r of config.routes) if ((target === r.path || target.startsWith(r.path === '/' ? '/' : `${r.path}/`) || target.startsWith(`${r.path}?`)) && (best === null || r.path.length > best.path.length)) best = r;
  void host;
  return best;
};
const target = (query: string) => purgeTarget(new URLSearchParams(query), routeFor);

test('url= becomes the resource key that route builds: host, sorted query', () => {
  assert.deepEqual(target(`url=${encodeURIComponent('http://Example.com/a/../p?b=2&a=1')}`), { kind: 'uri', uri: 'example.com/p?a=1&b=2' });
  assert.deepEqual(target(`url=${encodeURIComponent('http://example.com:80/p')}`), { kind: 'uri', uri: 'example.com/p' });
  assert.deepEqual(target(`url=${encodeURIComponent('/shared/x?b=2&a=1')}`), { kind: 'uri', uri: '*/shared/x?b=2&a=1' });
  assert.deepEqual(target(`url=${encodeURIComponent('http://any.example/shared/x')}`), { kind: 'uri', uri: '*/shared/x' });
});

test('prefix=, tag=, all=1', () => {
  assert.deepEqual(target(`prefix=${encodeURIComponent('http://example.com/p/')}`), { kind: 'prefix', prefix: 'example.com/p/' });
  assert.deepEqual(target('prefix=/shared/'), { kind: 'prefix', prefix: '*/shared/' });
  assert.deepEqual(target('tag=product-42'), { kind: 'tag', tag: 'product-42' });
  assert.deepEqual(target('all=1'), { kind: 'all' });
});

test('bad or missing parameters are explained', () => {
  assert.match(target('') as string, /nothing to purge/);
  assert.match(target('url=/a&tag=x') as string, /more than one of url, tag/);
  assert.match(target('tag=a&tag=b') as string, /given twice/);
  assert.match(target('all=yes') as string, /all must be 1/);
  assert.match(target('tag=') as string, /tag must be/);
  assert.match(target('url=/p') as string, /includes the host; give a full URL/);
  assert.match(target('url=ftp://x/p') as string, /only http/);
  assert.match(target('url=not a url') as string, /not a URL/);
  assert.match(target(`url=${encodeURIComponent('http://h/plain/x')}`) as string, /no route with cache enabled/);
});

// `cache: { store: redis }` wiring in the gateway: the Redis store is opened
// at start; a password comes only from the environment; a Redis that cannot
// be reached degrades the cache to "forward everything" instead of failing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { startTestRedis } from '@rampart/data/testing';
import { Gateway, parseConfig, createLogger } from '../../packages/gateway/src/index.ts';
import { startGateway } from '../helpers/gateway.ts';
import { startUpstream } from '../helpers/upstream.ts';
import { gatewayYaml, request, cacheable } from './harness.ts';
import { waitFor } from '../helpers/wait.ts';

const redis = await startTestRedis();

test('responses are stored in Redis and served as hits from it', { skip: redis === null ? 'no redis-server' : false }, async (t) => {
  t.after(() => redis!.stop());
  let n = 0;
  const upstream = await startUpstream((_req, res) => cacheable(res, `n${++n}`));
  t.after(() => upstream.close());
  const gw = await startGateway(gatewayYaml([upstream.url], { store: { store: 'redis', redis: { url: redis!.url, keyPrefix: `wiring-${process.pid}:` } } }));
  t.after(() => gw.close());
  assert.match((await request(gw.port, '/r')).cacheStatus, /stored/);
  // The put is asynchronous with Redis: wait until a request is a hit.
  const hit = await waitFor(async () => {
    const r = await request(gw.port, '/r');
    return /hit/.test(r.cacheStatus) ? r : null;
  }, { what: 'a hit from Redis' });
  assert.equal(hit.body, 'n1');
  assert.equal(gw.gateway.cacheStatus().store!.kind, 'redis');
});

test('passwordEnv naming an unset variable stops the start with a clear error', async () => {
  const name = `RAMPART_TEST_UNSET_${process.pid}`;
  const config = parseConfig(gatewayYaml(['http://127.0.0.1:9'], { store: { store: 'redis', redis: { url: 'redis://127.0.0.1:9', passwordEnv: name } } }), 'test.yaml');
  await assert.rejects(Gateway.start(config, { logger: createLogger('silent') }), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'RAMPART_ERR_CACHE_CONFIG');
    assert.match(err.message, new RegExp(`${name}, which is not set`));
    return true;
  });
});

test('an unreachable Redis at start: the gateway runs, cached routes forward every request', async (t) => {
  // A port that accepts nothing: bound, then closed.
  const probe = net.createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const upstream = await startUpstream((_req, res) => cacheable(res, 'x'));
  t.after(() => upstream.close());
  const gw = await startGateway(gatewayYaml([upstream.url], { store: { store: 'redis', redis: { url: `redis://127.0.0.1:${port}` } } }));
  t.after(() => gw.close());
  const r = await request(gw.port, '/d');
  assert.equal(r.status, 200);
  assert.equal(r.cacheStatus, 'rampart; fwd=bypass; fwd-status=200; detail=store-unavailable');
});

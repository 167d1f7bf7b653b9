// Two real gateways sharing one redis-server in front of one upstream: what
// one stores the other serves, and a purge through either admin listener
// reaches both. (Coalescing and in-flight fetches stay per gateway.)
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { startTestRedis, type TestRedis } from '@rampart/data/testing';
import { escapeGlob } from '../../packages/gateway/src/cache/redis-store.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';
import { waitFor } from '../helpers/wait.ts';
import { admin, request } from './harness.ts';

const PREFIX = 'shared-test:';
const HOST = 'shop.example';

/** A GET with the shop's Host, as a client of either gateway sends it. */
const get = (port: number, target: string) => request(port, target, { host: HOST });

const redis = await startTestRedis();

describe('two gateways sharing one Redis cache', { skip: redis ? false : 'redis-server is not installed' }, () => {
  const served = new Map<string, number>();
  let upstream: TestUpstream;
  let a: TestGateway;
  let b: TestGateway;
  let raw: Redis;

  const config = (server: TestRedis, upstreamUrl: string) => `listen: "127.0.0.1:0"
admin: "127.0.0.1:0"
log: { level: info, access: false }
cache:
  store: redis
  redis: { url: "${server.url}", keyPrefix: "${PREFIX}" }
upstreams:
  app:
    servers: ["${upstreamUrl}"]
routes:
  - path: /
    upstream: app
    cache: true
`;

  /** Resolves once a response for `path` sits in Redis (the put follows the response to the client). */
  const storedInRedis = (path: string) =>
    waitFor(
      async () => {
        const [, keys] = await raw.scan('0', 'MATCH', `${escapeGlob(PREFIX)}r:*${escapeGlob(path)}`, 'COUNT', 10_000);
        return keys.length > 0;
      },
      { what: `${path} to be stored in Redis` },
    );

  before(async () => {
    upstream = await startUpstream((req, res) => {
      const count = (served.get(req.url!) ?? 0) + 1;
      served.set(req.url!, count);
      res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'public, max-age=300', 'cache-tag': 'catalogue' });
      res.end(`${req.url} #${count}`);
    });
    raw = new Redis(redis!.url);
    a = await startGateway(config(redis!, upstream.url));
    b = await startGateway(config(redis!, upstream.url));
  });

  after(async () => {
    await a?.close();
    await b?.close();
    await upstream?.close();
    raw?.disconnect();
    await redis?.stop();
  });

  test('a response stored through gateway A is a hit through gateway B: one upstream request in all', async () => {
    const first = await get(a.port, '/item?id=1');
    assert.equal(first.status, 200);
    assert.equal(first.body, '/item?id=1 #1');
    assert.match(String(first.headers['cache-status']), /^rampart; fwd=uri-miss/);
    await storedInRedis('/item?id=1');
    const second = await get(b.port, '/item?id=1');
    assert.equal(second.body, '/item?id=1 #1');
    assert.match(String(second.headers['cache-status']), /^rampart; hit/);
    assert.equal(served.get('/item?id=1'), 1);
  });

  test("a purge through A's admin listener makes B miss", async () => {
    await get(a.port, '/item?id=2');
    await storedInRedis('/item?id=2');
    assert.match(String((await get(b.port, '/item?id=2')).headers['cache-status']), /^rampart; hit/);
    const purge = await admin(a, `/cache/purge?url=${encodeURIComponent(`http://${HOST}/item?id=2`)}`);
    assert.equal(purge.status, 200, purge.text);
    assert.deepEqual(purge.json, { purged: 1 });
    const afterPurge = await get(b.port, '/item?id=2');
    assert.match(String(afterPurge.headers['cache-status']), /^rampart; fwd=uri-miss/);
    assert.equal(afterPurge.body, '/item?id=2 #2');
    assert.equal(served.get('/item?id=2'), 2);
  });

  test("a purge by tag through B's admin listener makes A miss", async () => {
    await get(b.port, '/item?id=3');
    await storedInRedis('/item?id=3');
    assert.match(String((await get(a.port, '/item?id=3')).headers['cache-status']), /^rampart; hit/);
    const purge = await admin(b, '/cache/purge?tag=catalogue');
    assert.equal(purge.status, 200, purge.text);
    assert.ok((purge.json as { purged: number }).purged >= 1, purge.text);
    assert.equal((await get(a.port, '/item?id=3')).body, '/item?id=3 #2');
  });
});

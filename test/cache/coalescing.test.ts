// Request coalescing: concurrent misses for one key make one upstream
// request; the others wait for its head and get the body as it streams.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { setup, cacheable, admin } from './harness.ts';
import type { TestGateway } from '../helpers/gateway.ts';
import { waitFor } from '../helpers/wait.ts';

async function routeCounter(gw: TestGateway, name: string): Promise<number> {
  const { json } = await admin(gw, '/cache', 'GET');
  return ((json!.routes as Record<string, Record<string, number>>)['/']?.[name]) ?? 0;
}

test('N concurrent misses make one upstream request; the others are collapsed onto it', async (t) => {
  const held: http.ServerResponse[] = [];
  const c = await setup((_req, res) => {
    held.push(res);
  });
  t.after(() => c.close());
  const n = 20;
  const replies = Array.from({ length: n }, () => c.get('/hot'));
  await waitFor(async () => (await routeCounter(c.gw, 'collapsed')) === n - 1, { what: `${n - 1} collapsed requests` });
  assert.equal(c.count('/hot'), 1);
  held[0]!.writeHead(200, { 'cache-control': 'max-age=60', 'content-type': 'text/plain' }).end('shared');
  const all = await Promise.all(replies);
  assert.ok(all.every((r) => r.status === 200 && r.body === 'shared'));
  assert.equal(all.filter((r) => / collapsed/.test(r.cacheStatus)).length, n - 1);
  assert.equal(all.filter((r) => /stored/.test(r.cacheStatus)).length, n);
  assert.equal(c.count('/hot'), 1);
});

test('waiters get the body as it arrives, before the upstream has finished it', async (t) => {
  let upstreamRes: http.ServerResponse | null = null;
  const c = await setup((_req, res) => {
    upstreamRes = res;
    res.writeHead(200, { 'cache-control': 'max-age=60', 'content-type': 'text/plain' });
    res.write('first-half;');
  });
  t.after(() => c.close());
  const received: string[] = ['', '', ''];
  const done = received.map(
    (_, i) =>
      new Promise<string>((resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port: c.gw.port, path: '/stream', agent: false }, (res) => {
            res.setEncoding('utf8');
            res.on('data', (d: string) => (received[i] += d));
            res.on('end', () => resolve(received[i]!));
          })
          .on('error', reject);
      }),
  );
  await waitFor(() => received.every((r) => r === 'first-half;'), { what: 'the first half at every client' });
  assert.equal(c.count('/stream'), 1);
  upstreamRes!.end('second-half');
  assert.deepEqual(await Promise.all(done), ['first-half;second-half', 'first-half;second-half', 'first-half;second-half']);
  // A client arriving after the end gets it from the store.
  assert.match((await c.get('/stream')).cacheStatus, /hit/);
});

test('a response that cannot be stored sends the waiters upstream in parallel, and later requests do not queue (hit-for-miss)', async (t) => {
  const held: http.ServerResponse[] = [];
  let inflight = 0;
  let peak = 0;
  const c = await setup((_req, res) => {
    inflight++;
    peak = Math.max(peak, inflight);
    res.on('close', () => inflight--);
    held.push(res);
  });
  t.after(() => c.close());
  const answer = (res: http.ServerResponse) => res.writeHead(200, { 'cache-control': 'private', 'content-type': 'text/plain' }).end('mine');
  const first = Array.from({ length: 5 }, () => c.get('/private'));
  await waitFor(async () => (await routeCounter(c.gw, 'collapsed')) === 4, { what: 'four waiters' });
  answer(held.shift()!);
  // The four waiters must now all be upstream at once; one at a time would never get there.
  await waitFor(() => held.length === 4, { what: 'the waiters upstream in parallel' });
  for (const res of held.splice(0)) answer(res);
  const replies = await Promise.all(first);
  assert.ok(replies.every((r) => r.body === 'mine'));
  assert.equal(replies.filter((r) => /collapsed/.test(r.cacheStatus)).length, 0, 'none was served the leader\'s private response');
  const later = Array.from({ length: 3 }, () => c.get('/private'));
  await waitFor(() => held.length === 3, { what: 'three requests upstream at once, none waiting' });
  for (const res of held.splice(0)) answer(res);
  await Promise.all(later);
  assert.equal(c.count('/private'), 8);
});

test('a waiter whose Vary values differ from the leader\'s goes upstream itself', async (t) => {
  const held: http.ServerResponse[] = [];
  const langs: string[] = [];
  const c = await setup((req, res) => {
    langs.push(String(req.headers['accept-language']));
    held.push(res);
  });
  t.after(() => c.close());
  const de = c.get('/v', { 'accept-language': 'de' });
  await waitFor(() => held.length === 1, { what: 'the leader upstream' });
  const fr = c.get('/v', { 'accept-language': 'fr' });
  const de2 = c.get('/v', { 'accept-language': 'de' });
  await waitFor(async () => (await routeCounter(c.gw, 'collapsed')) === 2, { what: 'two waiters' });
  held[0]!.writeHead(200, { 'cache-control': 'max-age=60', vary: 'accept-language' }).end('de');
  await waitFor(() => held.length === 2, { what: 'the fr request upstream' });
  held[1]!.writeHead(200, { 'cache-control': 'max-age=60', vary: 'accept-language' }).end('fr');
  assert.equal((await de).body, 'de');
  assert.equal((await de2).body, 'de');
  assert.equal((await fr).body, 'fr');
  assert.deepEqual(langs, ['de', 'fr']);
});

test('a client that goes away does not break the others; an upstream error reaches every waiter', async (t) => {
  const held: http.ServerResponse[] = [];
  let failing = false;
  const c = await setup((req, res) => {
    // The gateway retries a request lost on a reused connection once, on a new one: that one fails too.
    if (failing) req.socket.destroy();
    else held.push(res);
  });
  t.after(() => c.close());
  // The leader leaves before the head.
  const leader = http.get({ host: '127.0.0.1', port: c.gw.port, path: '/a', agent: false });
  leader.on('error', () => {});
  await waitFor(() => held.length === 1, { what: 'the leader upstream' });
  const waiters = [c.get('/a'), c.get('/a')];
  await waitFor(async () => (await routeCounter(c.gw, 'collapsed')) === 2, { what: 'two waiters' });
  leader.destroy();
  await waitFor(async () => (await admin(c.gw, '/status', 'GET')).json!.inflight === 2, { what: 'the leader gone' });
  held[0]!.writeHead(200, { 'cache-control': 'max-age=60' }).end('still here');
  for (const r of await Promise.all(waiters)) assert.equal(r.body, 'still here');

  // Now an error: the upstream drops the connection before answering.
  const broken = [c.get('/b'), c.get('/b'), c.get('/b')];
  await waitFor(async () => (await routeCounter(c.gw, 'collapsed')) === 4, { what: 'two more waiters' });
  failing = true;
  held[1]!.socket!.destroy();
  const replies = await Promise.all(broken);
  assert.deepEqual(replies.map((r) => r.status), [502, 502, 502]);
  assert.ok(c.count('/b') <= 2, 'one request (and the gateway\'s one retry on a fresh connection), not one per client');
});

test('requests with Authorization, no-store or a Range never wait on another', async (t) => {
  const held: http.ServerResponse[] = [];
  const c = await setup((_req, res) => {
    held.push(res);
  });
  t.after(() => c.close());
  const lead = c.get('/x');
  await waitFor(() => held.length === 1, { what: 'the leader upstream' });
  const others = [c.get('/x', { authorization: 'Basic eDp5' }), c.get('/x', { 'cache-control': 'no-store' }), c.get('/x', { range: 'bytes=0-0' })];
  await waitFor(() => held.length === 4, { what: 'the three upstream on their own' });
  for (const res of held) cacheable(res, 'x');
  await Promise.all([lead, ...others]);
  assert.equal(await routeCounter(c.gw, 'collapsed'), 0);
});

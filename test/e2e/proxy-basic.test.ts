import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startUpstream } from '../helpers/upstream.ts';
import { startGateway, configFor } from '../helpers/gateway.ts';

test('a GET goes through the gateway and back, with forwarding headers set', async (t) => {
  const upstream = await startUpstream((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ url: req.url, headers: req.headers }));
  });
  t.after(() => upstream.close());
  const gw = await startGateway(configFor([upstream.url]));
  t.after(() => gw.close());

  const res = await fetch(`${gw.url}/hello?x=1`, { headers: { 'x-forwarded-for': '6.6.6.6' } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('via'), '1.1 rampart');
  const seen = (await res.json()) as { url: string; headers: Record<string, string> };
  assert.equal(seen.url, '/hello?x=1');
  assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1', 'a client-supplied X-Forwarded-For is replaced');
  assert.equal(seen.headers['x-forwarded-proto'], 'http');
  assert.equal(seen.headers['via'], '1.1 rampart');
  assert.match(seen.headers['forwarded'] ?? '', /^for=127\.0\.0\.1;proto=http;host=/);
});

test('a POST body streams upstream and the response comes back', async (t) => {
  const upstream = await startUpstream(async (req, res) => {
    let n = 0;
    for await (const c of req) n += (c as Buffer).length;
    res.end(`got ${n}`);
  });
  t.after(() => upstream.close());
  const gw = await startGateway(configFor([upstream.url]));
  t.after(() => gw.close());
  const res = await fetch(`${gw.url}/upload`, { method: 'POST', body: 'x'.repeat(100_000) });
  assert.equal(await res.text(), 'got 100000');
});

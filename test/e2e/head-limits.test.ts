// Request-head limits (limits.maxHeaderBytes 16 KiB and limits.maxHeaders 100
// by default): past them the client gets 431, the connection is closed and
// nothing reaches the upstream.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, configFor, type TestGateway } from '../helpers/gateway.ts';
import { exchange, startFramingUpstream, type FramingUpstream } from '../helpers/framing-upstream.ts';

const MAX_HEADER_BYTES = 16384;
const MAX_HEADERS = 100;

let upstream: FramingUpstream;
let gw: TestGateway;

before(async () => {
  upstream = await startFramingUpstream();
  gw = await startGateway(configFor([upstream.url]));
});
after(async () => {
  await gw.close();
  await upstream.close();
});

/** A GET head of exactly `size` bytes (without the final CRLFCRLF), padded in one field. */
function headOf(target: string, size: number): string {
  const start = `GET ${target} HTTP/1.1\r\nHost: a\r\nX-Pad: `;
  return start + 'p'.repeat(size - start.length);
}

function forwardedTo(target: string): number {
  return upstream.log.filter((r) => r.target === target).length + upstream.connections.filter((c) => c.data.includes(`${target} HTTP`)).length;
}

test(`a head of exactly ${MAX_HEADER_BYTES} bytes is served`, async () => {
  const head = headOf('/limits/exact', MAX_HEADER_BYTES);
  assert.equal(head.length, MAX_HEADER_BYTES);
  const x = await exchange(gw.port, Buffer.from(`${head}\r\n\r\n`, 'latin1'), { until: (r) => r.statuses.length > 0 });
  assert.deepEqual(x.statuses, [200]);
});

test('a head one byte over 16 KiB gets 431 and the connection is closed', async () => {
  const head = headOf('/limits/over', MAX_HEADER_BYTES + 1);
  const x = await exchange(gw.port, Buffer.from(`${head}\r\n\r\n`, 'latin1'));
  assert.deepEqual(x.statuses, [431]);
  assert.ok(x.closed);
  assert.equal(forwardedTo('/limits/over'), 0, 'nothing reaches the upstream');
});

test('a head that keeps coming past 16 KiB without its end gets 431 at once', async () => {
  // No CRLFCRLF and no half-close: the gateway must stop reading on its own.
  const x = await exchange(gw.port, Buffer.from(headOf('/limits/endless', 20_000), 'latin1'));
  assert.deepEqual(x.statuses, [431]);
  assert.ok(x.closed);
  assert.equal(forwardedTo('/limits/endless'), 0);
});

test(`${MAX_HEADERS} header fields are served, ${MAX_HEADERS + 1} get 431 and the connection is closed`, async () => {
  const fields = (n: number) => Array.from({ length: n - 1 }, (_, i) => `X-F${i}: ${i}\r\n`).join('');
  const ok = await exchange(gw.port, Buffer.from(`GET /limits/fields-ok HTTP/1.1\r\nHost: a\r\n${fields(MAX_HEADERS)}\r\n`), { until: (r) => r.statuses.length > 0 });
  assert.deepEqual(ok.statuses, [200]);

  const x = await exchange(gw.port, Buffer.from(`GET /limits/fields-over HTTP/1.1\r\nHost: a\r\n${fields(MAX_HEADERS + 1)}\r\n`));
  assert.deepEqual(x.statuses, [431]);
  assert.ok(x.closed);
  assert.equal(forwardedTo('/limits/fields-over'), 0);
});

test('a pipelined request after an oversized head is never served', async () => {
  const big = headOf('/limits/pipe-1', MAX_HEADER_BYTES + 100);
  const x = await exchange(gw.port, Buffer.from(`${big}\r\n\r\nGET /limits/pipe-2 HTTP/1.1\r\nHost: a\r\n\r\n`, 'latin1'));
  assert.deepEqual(x.statuses, [431]);
  assert.ok(x.closed);
  assert.equal(forwardedTo('/limits/pipe-1') + forwardedTo('/limits/pipe-2'), 0);
});

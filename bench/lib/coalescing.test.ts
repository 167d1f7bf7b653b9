import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { burst, parseAnswer, startSlowOrigin } from './coalescing.ts';

describe('coalescing round', () => {
  it('counts every request that reaches the origin: a burst straight at it (no cache) makes one each', async () => {
    const origin = await startSlowOrigin(20, 1024);
    try {
      const result = await burst(origin.port, '/coalesce/control', 20, 1024, 5000);
      assert.equal(result.ok, 20);
      assert.equal(origin.count('/coalesce/control'), 20);
      assert.equal(origin.count('/other'), 0);
      // The origin waited before answering: the burst cannot be faster.
      assert.ok(result.ms >= 20, `took ${result.ms} ms`);
    } finally {
      await origin.close();
    }
  });

  it('fails at the deadline when nothing answers', async () => {
    const origin = await startSlowOrigin(10_000, 16);
    try {
      await assert.rejects(burst(origin.port, '/slow', 2, 16, 200), /no 2 answers for \/slow within the deadline/);
    } finally {
      await origin.close();
    }
  });

  it('reads the status and the body length of a response, chunked or not', () => {
    const plain = Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 5\r\nconnection: close\r\n\r\nhello');
    assert.deepEqual(parseAnswer(plain), { status: 200, bodyBytes: 5 });
    const chunked = Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n');
    assert.deepEqual(parseAnswer(chunked), { status: 200, bodyBytes: 7 });
    assert.deepEqual(parseAnswer(Buffer.from('HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n')), { status: 503, bodyBytes: 0 });
    assert.deepEqual(parseAnswer(Buffer.alloc(0)), { status: 0, bodyBytes: 0 });
  });
});

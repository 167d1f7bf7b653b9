// An upstream's response head (RFC 9112 §4-§6): the gateway re-frames the
// body for the client, so it must know exactly where the response ends;
// anything ambiguous comes back as a reason string (the client gets 502).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseResponseHead, type ResponseHead } from './response-head.ts';

function parse(...lines: string[]): ResponseHead {
  const head = parseResponseHead(lines.join('\r\n'));
  if (typeof head === 'string') assert.fail(`expected a parsed head, got: ${head}`);
  return head;
}

function invalid(...lines: string[]): string {
  const head = parseResponseHead(lines.join('\r\n'));
  assert.equal(typeof head, 'string', `expected ${JSON.stringify(lines)} to be refused`);
  return head as string;
}

function field(head: ResponseHead, name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < head.headers.length; i += 2) if (head.headers[i] === name) out.push(head.headers[i + 1]!);
  return out;
}

describe('status line', () => {
  test('status, reason and version are read', () => {
    const head = parse('HTTP/1.1 404 Not Found', 'Content-Length: 0');
    assert.equal(head.status, 404);
    assert.equal(head.reason, 'Not Found');
    assert.equal(head.minor, 1);
    assert.equal(parse('HTTP/1.0 200').reason, '');
  });

  test('malformed status lines are refused', () => {
    for (const line of ['HTTP/1.1 20 OK', 'HTTP/1.1 2000 OK', 'HTTP/2 200 OK', 'HTTP/1.1  200 OK', 'HTTP/1.1 200OK', 'HTTP/1.1 200 O\x01K', 'ICE/1.0 200 OK']) {
      assert.equal(invalid(line), 'malformed status line', line);
    }
    assert.equal(invalid('HTTP/1.1 099 Weird'), 'invalid status code');
  });
});

describe('Content-Length', () => {
  test('sets the length', () => {
    const head = parse('HTTP/1.1 200 OK', 'Content-Length: 12');
    assert.equal(head.contentLength, 12);
    assert.equal(head.chunked, false);
    assert.equal(parse('HTTP/1.1 200 OK').contentLength, -1);
  });

  test('identical repeated values are one length, kept once in canonical form', () => {
    const head = parse('HTTP/1.1 200 OK', 'Content-Length: 5, 5', 'content-length: 005');
    assert.equal(head.contentLength, 5);
    assert.deepEqual(field(head, 'content-length'), ['5']);
  });

  test('conflicting values are an error', () => {
    assert.equal(invalid('HTTP/1.1 200 OK', 'Content-Length: 5', 'Content-Length: 6'), 'conflicting Content-Length');
    assert.equal(invalid('HTTP/1.1 200 OK', 'Content-Length: 5, 6'), 'invalid Content-Length');
  });

  test('values that are not digits are an error', () => {
    for (const value of ['+5', '-1', '0x5', '5 5', '', ',5', '5,', '1234567890123456', '5\xa0', '\xa05']) {
      assert.equal(invalid('HTTP/1.1 200 OK', `Content-Length: ${value}`), 'invalid Content-Length', JSON.stringify(value));
    }
  });
});

describe('Transfer-Encoding', () => {
  test('chunked last frames the body as chunked', () => {
    const head = parse('HTTP/1.1 200 OK', 'Transfer-Encoding: gzip, Chunked');
    assert.equal(head.chunked, true);
    assert.equal(head.keepAlive, true);
  });

  test('overrides Content-Length, which is dropped, and the connection is not reused', () => {
    const head = parse('HTTP/1.1 200 OK', 'Content-Length: 5', 'Transfer-Encoding: chunked');
    assert.equal(head.chunked, true);
    assert.equal(head.contentLength, -1);
    assert.deepEqual(field(head, 'content-length'), []);
    assert.equal(head.keepAlive, false);
    const after = parse('HTTP/1.1 200 OK', 'Transfer-Encoding: chunked', 'X: content-length', 'Content-Length: 5');
    assert.deepEqual(after.headers, ['transfer-encoding', 'chunked', 'x', 'content-length']);
  });

  test('without chunked last, the response is refused: re-framed, its coding would be lost', () => {
    assert.equal(invalid('HTTP/1.1 200 OK', 'Transfer-Encoding: chunked, gzip', 'Content-Length: 5'), 'unsupported transfer coding');
    assert.equal(invalid('HTTP/1.1 200 OK', 'Transfer-Encoding: gzip'), 'unsupported transfer coding');
  });

  test('in an HTTP/1.0 response the connection is closed after it', () => {
    const head = parse('HTTP/1.0 200 OK', 'Connection: keep-alive', 'Transfer-Encoding: chunked');
    assert.equal(head.chunked, true);
    assert.equal(head.keepAlive, false);
  });
});

describe('field lines', () => {
  test('obs-fold is an error', () => {
    assert.equal(invalid('HTTP/1.1 200 OK', 'X: a', ' b'), 'obsolete line folding');
    assert.equal(invalid('HTTP/1.1 200 OK', 'X: a', '\tb'), 'obsolete line folding');
  });

  test('whitespace before the colon, or a line without one, is an error', () => {
    assert.equal(invalid('HTTP/1.1 200 OK', 'Content-Length : 5'), 'invalid header name');
    assert.equal(invalid('HTTP/1.1 200 OK', 'garbage'), 'malformed header line');
  });

  test('control characters in a value are an error', () => {
    for (const ch of ['\r', '\n', '\x00', '\x7f']) {
      assert.equal(invalid('HTTP/1.1 200 OK', `X: a${ch}b`), 'invalid character in header value', JSON.stringify(ch));
    }
  });

  test('values lose OWS only', () => {
    assert.deepEqual(parse('HTTP/1.1 200 OK', 'X: \t a b \t').headers, ['x', 'a b']);
    assert.deepEqual(parse('HTTP/1.1 200 OK', 'X: \xa0a').headers, ['x', '\xa0a']);
  });
});

describe('connection', () => {
  test('HTTP/1.1 is persistent unless the server says close', () => {
    assert.equal(parse('HTTP/1.1 200 OK').keepAlive, true);
    assert.equal(parse('HTTP/1.1 200 OK', 'Connection: Close').keepAlive, false);
    assert.deepEqual(parse('HTTP/1.1 200 OK', 'Connection: close, X-Y').connection, ['close', 'x-y']);
  });

  test('HTTP/1.0 is persistent only with keep-alive', () => {
    assert.equal(parse('HTTP/1.0 200 OK', 'Content-Length: 0').keepAlive, false);
    assert.equal(parse('HTTP/1.0 200 OK', 'Connection: keep-alive', 'Content-Length: 0').keepAlive, true);
  });
});

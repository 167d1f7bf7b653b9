// RFC 9112 request-head rules, one refusal per way two parsers could read the
// same bytes differently. Heads are given as the entrypoint hands them over:
// request line and field lines joined by CRLF, without the final empty line.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRequestHead, splitTokens, type RequestHead } from './request-head.ts';
import { BadRequestError } from '../errors.ts';

const MAX_HEADERS = 100;

function parse(...lines: string[]): RequestHead {
  return parseRequestHead(lines.join('\r\n'), MAX_HEADERS);
}

/** Asserts the head is refused with `status`, and returns the reason. */
function refused(status: number, ...lines: string[]): string {
  let error: unknown;
  try {
    parseRequestHead(lines.join('\r\n'), MAX_HEADERS);
  } catch (err) {
    error = err;
  }
  assert.ok(error instanceof BadRequestError, `expected a refusal (${status}) for ${JSON.stringify(lines)}`);
  assert.equal(error.status, status, `status for ${JSON.stringify(lines)}: ${error.message}`);
  return error.message;
}

function field(head: RequestHead, name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < head.headers.length; i += 2) if (head.headers[i] === name) out.push(head.headers[i + 1]!);
  return out;
}

describe('request line', () => {
  test('a plain GET is parsed into its parts', () => {
    const head = parse('GET /a?b=1 HTTP/1.1', 'Host: Example.COM:8080', 'Accept: */*');
    assert.equal(head.method, 'GET');
    assert.equal(head.target, '/a?b=1');
    assert.equal(head.minor, 1);
    assert.equal(head.host, 'example.com:8080');
    assert.equal(head.contentLength, -1);
    assert.equal(head.chunked, false);
    assert.deepEqual(head.headers, ['host', 'Example.COM:8080', 'accept', '*/*']);
  });

  test('HTTP/2.0 and other well-formed versions the gateway does not speak get 505', () => {
    refused(505, 'GET / HTTP/2.0', 'Host: a');
    refused(505, 'PRI * HTTP/2.0');
    refused(505, 'GET / HTTP/1.2', 'Host: a');
    refused(505, 'GET / HTTP/0.9');
  });

  test('a malformed version is a malformed request line (400)', () => {
    refused(400, 'GET / HTTP/1.10', 'Host: a');
    refused(400, 'GET / http/1.1', 'Host: a');
    refused(400, 'GET / HTTP/1', 'Host: a');
    refused(400, 'GET / ICE/1.0', 'Host: a');
    refused(400, 'GET /', 'Host: a');
  });

  test('separators are exactly one SP', () => {
    refused(400, 'GET  / HTTP/1.1', 'Host: a');
    refused(400, 'GET / HTTP/1.1 ', 'Host: a');
    refused(400, ' GET / HTTP/1.1', 'Host: a');
    refused(400, 'GET\t/ HTTP/1.1', 'Host: a');
    refused(400, 'GET /foo bar/ HTTP/1.1', 'Host: a');
  });

  test('the method is a token', () => {
    refused(400, 'G@T / HTTP/1.1', 'Host: a');
    refused(400, 'GET\r / HTTP/1.1', 'Host: a');
    // Extension methods are tokens too (RFC 9110 §9.1) and are forwarded.
    assert.equal(parse('MKCOLA / HTTP/1.1', 'Host: a').method, 'MKCOLA');
  });

  test('the target is visible ASCII without a fragment', () => {
    refused(400, 'GET /\x7f HTTP/1.1', 'Host: a');
    refused(400, 'GET /\xce\xb4 HTTP/1.1', 'Host: a');
    refused(400, 'GET /a\x00 HTTP/1.1', 'Host: a');
    refused(400, 'GET /a#frag HTTP/1.1', 'Host: a');
    refused(400, 'GET a/b HTTP/1.1', 'Host: a');
  });

  test('asterisk-form is for OPTIONS only', () => {
    assert.equal(parse('OPTIONS * HTTP/1.1', 'Host: a').target, '*');
    refused(400, 'GET * HTTP/1.1', 'Host: a');
    refused(400, 'M-SEARCH * HTTP/1.1', 'Host: a');
  });

  test('CONNECT gets 501 whatever the form of its target', () => {
    refused(501, 'CONNECT example.com:443 HTTP/1.1', 'Host: example.com:443');
    refused(501, 'CONNECT / HTTP/1.1', 'Host: a');
    refused(501, 'CONNECT http://a/ HTTP/1.1', 'Host: a');
  });
});

describe('absolute-form', () => {
  test('is rewritten to origin-form when its authority equals Host', () => {
    const head = parse('GET http://Example.com:81/p/q?x=1 HTTP/1.1', 'Host: example.COM:81');
    assert.equal(head.target, '/p/q?x=1');
    assert.equal(head.host, 'example.com:81');
  });

  test('supplies the host when Host is absent (HTTP/1.0)', () => {
    const head = parse('GET https://a.example HTTP/1.0');
    assert.equal(head.target, '/');
    assert.equal(head.host, 'a.example');
  });

  test('an empty path becomes `/`, also before a query', () => {
    assert.equal(parse('GET http://a?hail=all HTTP/1.1', 'Host: a').target, '/?hail=all');
    assert.equal(parse('GET http://a:1234 HTTP/1.1', 'Host: a:1234').target, '/');
  });

  test('a Host different from the target authority is refused', () => {
    refused(400, 'GET http://a.example/ HTTP/1.1', 'Host: b.example');
    refused(400, 'GET http://a.example/ HTTP/1.1', 'Host: a.example:80');
  });

  test('an empty authority, userinfo or a scheme other than http(s) is refused', () => {
    refused(400, 'GET http:///x HTTP/1.1', 'Host: ');
    refused(400, 'GET http:///x HTTP/1.0');
    refused(400, 'GET http://:80/x HTTP/1.1', 'Host: a');
    refused(400, 'GET http://user@a/ HTTP/1.0');
    refused(400, 'GET ftp://a/ HTTP/1.1', 'Host: a');
    refused(400, 'GET http://a/#x HTTP/1.1', 'Host: a');
  });
});

describe('Host', () => {
  test('missing on HTTP/1.1 is refused', () => {
    const reason = refused(400, 'GET / HTTP/1.1', 'Accept: */*');
    assert.match(reason, /Host/);
  });

  test('missing on HTTP/1.0 is allowed and leaves the host empty', () => {
    const head = parse('GET / HTTP/1.0');
    assert.equal(head.host, '');
    assert.equal(head.minor, 0);
  });

  test('twice is refused, even with the same value or another case of the name', () => {
    refused(400, 'GET / HTTP/1.1', 'Host: a', 'Host: b');
    refused(400, 'GET / HTTP/1.1', 'Host: a', 'host: a');
  });

  test('must be an authority', () => {
    refused(400, 'GET / HTTP/1.1', 'Host: a b');
    refused(400, 'GET / HTTP/1.1', 'Host: user@a');
    refused(400, 'GET / HTTP/1.1', 'Host: a/b');
    refused(400, 'GET / HTTP/1.1', 'Host: a:80:80');
    assert.equal(parse('GET / HTTP/1.1', 'Host: [::1]:8080').host, '[::1]:8080');
  });
});

describe('Content-Length', () => {
  test('sets the body length and is forwarded in canonical form', () => {
    const head = parse('POST / HTTP/1.1', 'Host: a', 'Content-Length: 003');
    assert.equal(head.contentLength, 3);
    assert.deepEqual(field(head, 'content-length'), ['3']);
  });

  test('surrounding OWS is not part of the value', () => {
    assert.equal(parse('POST / HTTP/1.1', 'Host: a', 'Content-Length: \t42 ').contentLength, 42);
  });

  test('twice is refused, even with equal values', () => {
    refused(400, 'POST / HTTP/1.1', 'Host: a', 'Content-Length: 5', 'Content-Length: 6');
    refused(400, 'POST / HTTP/1.1', 'Host: a', 'Content-Length: 5', 'Content-Length: 5');
    refused(400, 'POST / HTTP/1.1', 'Host: a', 'Content-Length: 5', 'content-length: 5');
  });

  for (const value of ['+5', '-5', '4 2', '5,5', '5, 5', '0x5', '5a', 'a', '', '1e3', '5.0', '1234567890123456']) {
    test(`${JSON.stringify(value)} is refused`, () => {
      refused(400, 'POST / HTTP/1.1', 'Host: a', `Content-Length: ${value}`);
    });
  }

  test('`Content_Length` is refused: servers that fold `_` into `-` would frame by it', () => {
    refused(400, 'POST / HTTP/1.1', 'Host: a', 'Content_Length: 5');
    // Other names with underscores are ordinary fields.
    assert.deepEqual(field(parse('GET / HTTP/1.1', 'Host: a', 'X_Custom: 1'), 'x_custom'), ['1']);
  });
});

describe('Transfer-Encoding', () => {
  test('exactly `chunked` (any case) frames the body as chunked', () => {
    assert.equal(parse('POST / HTTP/1.1', 'Host: a', 'Transfer-Encoding: chunked').chunked, true);
    assert.equal(parse('POST / HTTP/1.1', 'Host: a', 'transfer-encoding:  CHUNKED\t').chunked, true);
  });

  test('on HTTP/1.0 is refused', () => {
    refused(400, 'POST / HTTP/1.0', 'Transfer-Encoding: chunked');
    refused(400, 'POST / HTTP/1.0', 'Host: a', 'Transfer-Encoding: chunked', 'Content-Length: 5');
  });

  test('together with Content-Length is refused, in either order', () => {
    refused(400, 'POST / HTTP/1.1', 'Host: a', 'Transfer-Encoding: chunked', 'Content-Length: 5');
    refused(400, 'POST / HTTP/1.1', 'Host: a', 'Content-Length: 0', 'Transfer-Encoding: chunked');
  });

  test('codings that are not chunked-last are refused with 400', () => {
    for (const value of ['identity', 'gzip', 'chunked, gzip', 'chunked, chunked', 'xchunked', 'chunkedchunked', 'chunked;q=1', '', ', chunked', '"chunked"']) {
      refused(400, 'POST / HTTP/1.1', 'Host: a', `Transfer-Encoding: ${value}`);
    }
  });

  test('a coding before chunked that the gateway does not implement gets 501', () => {
    refused(501, 'POST / HTTP/1.1', 'Host: a', 'Transfer-Encoding: gzip, chunked');
    refused(501, 'POST / HTTP/1.1', 'Host: a', 'Transfer-Encoding: deflate', 'Transfer-Encoding: chunked');
  });

  test('split over several fields is read as one list', () => {
    refused(400, 'POST / HTTP/1.1', 'Host: a', 'Transfer-Encoding: chunked', 'Transfer-Encoding: deflate');
    refused(400, 'POST / HTTP/1.1', 'Host: a', 'Transfer-Encoding: chunked', 'Transfer-Encoding: chunked');
    refused(400, 'POST / HTTP/1.1', 'Host: a', 'Transfer-Encoding: chunked', 'Transfer-Encoding:');
  });

  test('obfuscated names and values are refused', () => {
    refused(400, 'POST / HTTP/1.1', 'Host: a', 'Transfer_Encoding: chunked');
    refused(400, 'POST / HTTP/1.1', 'Host: a', 'Transfer-Encoding : chunked');
    refused(400, 'POST / HTTP/1.1', 'Host: a', 'Transfer-Encoding:\x0bchunked');
    refused(400, 'POST / HTTP/1.1', 'Host: a', 'Transfer-Encoding: chunked\x01');
    refused(400, 'POST / HTTP/1.1', 'Host: a', ' Transfer-Encoding: chunked');
  });
});

describe('field lines', () => {
  for (const [what, ch] of [['CR', '\r'], ['LF', '\n'], ['NUL', '\x00'], ['VT', '\x0b'], ['FF', '\x0c'], ['DEL', '\x7f']] as const) {
    test(`${what} in a value is refused`, () => {
      const reason = refused(400, 'GET / HTTP/1.1', 'Host: a', `X: a${ch}b`);
      assert.match(reason, /invalid character/);
    });
  }

  test('HTAB and obs-text are allowed in a value', () => {
    assert.deepEqual(field(parse('GET / HTTP/1.1', 'Host: a', 'X: a\tb\xff\xe9'), 'x'), ['a\tb\xff\xe9']);
  });

  test('whitespace between name and colon is refused', () => {
    refused(400, 'GET / HTTP/1.1', 'Host : a');
    refused(400, 'GET / HTTP/1.1', 'Host: a', 'Connection\t: close');
  });

  test('obs-fold (a line starting with SP or HTAB) is refused', () => {
    assert.match(refused(400, 'GET / HTTP/1.1', 'Host: a', 'X: a', ' b'), /folding/);
    assert.match(refused(400, 'GET / HTTP/1.1', 'Host: a', 'X: a', '\tb'), /folding/);
    refused(400, 'GET / HTTP/1.1', ' Host: a');
  });

  test('a line without a colon, or with an empty or non-token name, is refused', () => {
    refused(400, 'GET / HTTP/1.1', 'Host: a', 'name');
    refused(400, 'GET / HTTP/1.1', 'Host: a', ': value');
    refused(400, 'GET / HTTP/1.1', 'Host: a', 'Fo@: x');
    refused(400, 'GET / HTTP/1.1', 'Host: a', 'X-Some-Header\r\x1b5: x');
  });

  test(`${MAX_HEADERS} fields pass, one more gets 431`, () => {
    const fields = Array.from({ length: MAX_HEADERS - 1 }, (_, i) => `X-${i}: ${i}`);
    assert.equal(parse('GET / HTTP/1.1', 'Host: a', ...fields).headers.length, MAX_HEADERS * 2);
    refused(431, 'GET / HTTP/1.1', 'Host: a', ...fields, 'X-Last: 1');
  });
});

describe('connection management', () => {
  test('HTTP/1.1 is persistent unless `close` is listed', () => {
    assert.equal(parse('GET / HTTP/1.1', 'Host: a').keepAlive, true);
    assert.equal(parse('GET / HTTP/1.1', 'Host: a', 'Connection: close').keepAlive, false);
    assert.equal(parse('GET / HTTP/1.1', 'Host: a', 'Connection: Keep-Alive, CLOSE').keepAlive, false);
    assert.equal(parse('GET / HTTP/1.1', 'Host: a', 'Connection: keep-alive', 'Connection: close').keepAlive, false);
    assert.equal(parse('GET / HTTP/1.1', 'Host: a', 'Connection: closed').keepAlive, true);
  });

  test('HTTP/1.0 is persistent only with `keep-alive`, and `close` wins', () => {
    assert.equal(parse('GET / HTTP/1.0').keepAlive, false);
    assert.equal(parse('GET / HTTP/1.0', 'Connection: Keep-Alive').keepAlive, true);
    assert.equal(parse('GET / HTTP/1.0', 'Connection: keep-alive, close').keepAlive, false);
  });

  test('Connection tokens are collected lower-case from every field', () => {
    const head = parse('GET / HTTP/1.1', 'Host: a', 'Connection: X-Foo, ,Keep-Alive', 'Connection: \tTE');
    assert.deepEqual(head.connection, ['x-foo', 'keep-alive', 'te']);
    assert.equal(parse('GET / HTTP/1.1', 'Host: a').connection, null);
    assert.deepEqual(splitTokens(' a ,, B\t'), ['a', 'b']);
  });

  test('Upgrade counts only when Connection lists it, on HTTP/1.1', () => {
    assert.equal(parse('GET / HTTP/1.1', 'Host: a', 'Connection: Upgrade', 'Upgrade: websocket').upgrade, 'websocket');
    assert.equal(parse('GET / HTTP/1.1', 'Host: a', 'Upgrade: websocket').upgrade, null);
    assert.equal(parse('GET / HTTP/1.0', 'Connection: upgrade', 'Upgrade: websocket').upgrade, null);
  });
});

describe('Expect', () => {
  test('100-continue (any case) is honoured on HTTP/1.1 and ignored on HTTP/1.0', () => {
    assert.equal(parse('POST / HTTP/1.1', 'Host: a', 'Content-Length: 1', 'Expect: 100-Continue').expectContinue, true);
    assert.equal(parse('POST / HTTP/1.0', 'Content-Length: 1', 'Expect: 100-continue').expectContinue, false);
    assert.equal(parse('POST / HTTP/1.1', 'Host: a', 'Content-Length: 1').expectContinue, false);
  });

  test('any other expectation gets 417', () => {
    refused(417, 'POST / HTTP/1.1', 'Host: a', 'Expect: 200-ok');
    refused(417, 'POST / HTTP/1.1', 'Host: a', 'Expect: 100-continue, foo');
    refused(417, 'POST / HTTP/1.1', 'Host: a', 'Expect: 100-continue', 'Expect: 100-continue');
  });
});

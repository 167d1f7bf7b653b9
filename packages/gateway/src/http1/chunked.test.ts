// The chunked decoder (RFC 9112 §7.1) must find the same end of message and
// the same data whatever way the bytes are split across reads: every encoding
// below is fed all at once, one byte at a time, and split at every boundary.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ChunkedDecoder, ChunkedError } from './chunked.ts';

interface Decoded {
  data: string;
  /** Index in the whole input just past the message, or -1 when it did not end. */
  end: number;
}

/** Feeds `parts` in order; stops at the end of the message. */
function feed(parts: Buffer[], decoder = new ChunkedDecoder()): Decoded {
  const data: Buffer[] = [];
  let offset = 0;
  for (const part of parts) {
    const used = decoder.push(part, 0, (chunk) => data.push(Buffer.from(chunk)));
    if (decoder.done) return { data: Buffer.concat(data).toString('latin1'), end: offset + used };
    assert.equal(used, part.length, 'an unfinished message consumes all it is given');
    offset += part.length;
  }
  return { data: Buffer.concat(data).toString('latin1'), end: -1 };
}

/** Every way of reading `encoded`: whole, byte by byte, and cut in two at each index. */
function splits(encoded: string): Buffer[][] {
  const buf = Buffer.from(encoded, 'latin1');
  const ways: Buffer[][] = [[buf], [...buf].map((b) => Buffer.from([b]))];
  for (let i = 1; i < buf.length; i++) ways.push([buf.subarray(0, i), buf.subarray(i)]);
  return ways;
}

/** Asserts every split decodes to `data` and ends at `end` (-1: still waiting). */
function decodes(encoded: string, data: string, end = encoded.length): void {
  for (const parts of splits(encoded)) {
    const got = feed(parts);
    const how = `${JSON.stringify(encoded)} read as ${parts.map((p) => p.length).join('+')} bytes`;
    assert.equal(got.data, data, how);
    assert.equal(got.end, end, how);
  }
}

/** Asserts every split throws a ChunkedError matching `reason`. */
function fails(encoded: string, reason?: RegExp): void {
  for (const parts of splits(encoded)) {
    assert.throws(() => feed(parts), (err: unknown) => err instanceof ChunkedError && (reason === undefined || reason.test(err.message)), `${JSON.stringify(encoded)} read as ${parts.map((p) => p.length).join('+')} bytes`);
  }
}

describe('chunk sizes', () => {
  test('one chunk, then the last chunk', () => {
    decodes('5\r\nhello\r\n0\r\n\r\n', 'hello');
  });

  test('several chunks, lower and upper case hex, leading zeros', () => {
    decodes('a\r\n0123456789\r\nA\r\nabcdefghij\r\n0005\r\n12345\r\n000\r\n\r\n', '0123456789abcdefghij12345');
  });

  test('a chunk larger than a read streams out in slices', () => {
    const body = 'x'.repeat(300);
    decodes(`12c\r\n${body}\r\n0\r\n\r\n`, body);
  });

  test('an empty body is just the last chunk', () => {
    decodes('0\r\n\r\n', '');
  });

  test('13 hex digits are allowed, 14 are too large', () => {
    const decoder = new ChunkedDecoder();
    assert.equal(decoder.push(Buffer.from('0000000000001\r\n'), 0, () => {}), 15);
    fails('00000000000001\r\nx\r\n0\r\n\r\n', /too large/);
    fails('fffffffffffffff\r\n', /too large/);
  });

  for (const [what, encoded] of [
    ['an empty size line', '\r\n5\r\nhello\r\n0\r\n\r\n'],
    ['a negative size', '-5\r\nhello\r\n0\r\n\r\n'],
    ['a 0x prefix', '0x5\r\nhello\r\n0\r\n\r\n'],
    ['a plus sign', '+5\r\nhello\r\n0\r\n\r\n'],
    ['leading spaces', '  5\r\nhello\r\n0\r\n\r\n'],
    ['a space after the size', '5 \r\nhello\r\n0\r\n\r\n'],
    ['a space before the extension', '5 ;a=b\r\nhello\r\n0\r\n\r\n'],
    ['a word after the size', '2 erfrferferf\r\naa\r\n0 rrrr\r\n\r\n'],
    ['a non-hex digit', '5g\r\nhello\r\n0\r\n\r\n'],
  ] as const) {
    test(`${what} is refused`, () => fails(encoded));
  }
});

describe('line endings', () => {
  for (const [what, encoded] of [
    ['a size line ended by bare LF', '5\nhello\r\n0\r\n\r\n'],
    ['a size line ended by bare CR', '5\rhello\r\n0\r\n\r\n'],
    ['data not followed by CRLF', '5\r\nhelloX\r\n0\r\n\r\n'],
    ['data followed by bare LF', '5\r\nhello\n0\r\n\r\n'],
    ['data longer than its size', '5\r\nhello!\r\n0\r\n\r\n'],
    ['a missing CRLF after the data (the next size follows at once)', '5\r\nABCDE0\r\n\r\n'],
    ['`0\\n\\n` as the last chunk', '0\n\n'],
    ['`0\\r\\n\\n` as the end', '0\r\n\n'],
    ['`0\\r\\n\\r` followed by a byte other than LF', '0\r\n\rX'],
    ['a chunk header ended by CR CR', '5\r\r;ABCD\r\n34\r\nE\r\n0\r\n\r\n'],
  ] as const) {
    test(`${what} is refused`, () => fails(encoded));
  }
});

describe('extensions', () => {
  test('names, token values and quoted values are accepted and dropped', () => {
    decodes('5;ilovew3;somuchlove=aretheseparametersfor;another=withvalue\r\nhello\r\n6;blahblah;blah\r\n world\r\n0\r\n\r\n', 'hello world');
    decodes('5;ilovew3="I \\"love\\"; \\\\extensions\\\\";somuchlove="aretheseparametersfor";blah;foo=bar\r\nhello\r\n0;last=1\r\n\r\n', 'hello');
    decodes('5; a = b ;c="d"\t;e\r\nhello\r\n0\r\n\r\n', 'hello');
  });

  for (const [what, encoded] of [
    ['a `;` without a name', '2;\r\naa\r\n0\r\n\r\n'],
    ['a `=` without a value', '2;a=\r\naa\r\n0\r\n\r\n'],
    ['a name that is not a token', '2;a@b\r\naa\r\n0\r\n\r\n'],
    ['a value that is not a token', '2;a=b@c\r\naa\r\n0\r\n\r\n'],
    ['two words in a value', '2;a=b c\r\naa\r\n0\r\n\r\n'],
    ['whitespace before the CRLF', '2;a=b \r\naa\r\n0\r\n\r\n'],
    ['an unterminated quoted value', '5;a="abc";b="def; ghi\r\nhello\r\n0\r\n\r\n'],
    ['text after a quoted value', '2;a="b"c\r\naa\r\n0\r\n\r\n'],
    ['a CR inside the extension', '5;a\rb\r\nhello\r\n0\r\n\r\n'],
    ['a bare LF inside the extension', '5;a\nb\r\nhello\r\n0\r\n\r\n'],
    ['a CR inside a quoted value', '5;a="x\ry"\r\nhello\r\n0\r\n\r\n'],
    ['a NUL inside the extension', '5;a\x00\r\nhello\r\n0\r\n\r\n'],
  ] as const) {
    test(`${what} is refused`, () => fails(encoded));
  }

  test('an extension longer than 4 KiB is refused', () => {
    assert.throws(() => feed([Buffer.from(`1;a=${'b'.repeat(5000)}\r\nx\r\n0\r\n\r\n`)]), /too long/);
    decodes(`1;a=${'b'.repeat(4000)}\r\nx\r\n0\r\n\r\n`, 'x');
  });
});

describe('trailers', () => {
  test('trailer fields are read and dropped', () => {
    decodes('5\r\nhello\r\n6\r\n world\r\n0\r\nVary: *\r\nContent-Type: text/plain\r\n\r\n', 'hello world');
    decodes('0\r\nX:\r\n\r\n', '');
  });

  test('the message does not end before the empty line after the trailers', () => {
    decodes('5\r\nhello\r\n0\r\nX: y\r\n', 'hello', -1);
    decodes('5\r\nhello\r\n0\r\n', 'hello', -1);
  });

  for (const [what, encoded] of [
    ['a line without a colon', '0\r\nNoColon\r\n\r\n'],
    ['a line starting with whitespace (obs-fold)', '0\r\nX: a\r\n b\r\n\r\n'],
    ['whitespace before the colon', '0\r\nX : a\r\n\r\n'],
    ['an empty name', '0\r\n: a\r\n\r\n'],
    ['a control character in a value', '0\r\nX: a\x01\r\n\r\n'],
    ['a bare LF ending a line', '0\r\nX: a\n\r\n'],
  ] as const) {
    test(`${what} is refused`, () => fails(encoded));
  }

  test('a trailer section larger than the limit is refused', () => {
    const decoder = new ChunkedDecoder(16);
    assert.throws(() => decoder.push(Buffer.from('0\r\nX-Long: 0123456789\r\n\r\n'), 0, () => {}), /too large/);
    const fits = '0\r\nX: 0123456789\r\n\r\n';
    assert.equal(feed([Buffer.from(fits)], new ChunkedDecoder(16)).end, fits.length);
  });
});

describe('the end of the message', () => {
  test('push returns the index of the next message in the same buffer', () => {
    const encoded = '5\r\nhello\r\n0\r\n\r\n';
    const next = 'GET / HTTP/1.1\r\n\r\n';
    for (const parts of splits(encoded + next)) {
      const got = feed(parts);
      assert.equal(got.end, encoded.length, `split ${parts.map((p) => p.length).join('+')}`);
      assert.equal(got.data, 'hello');
    }
  });

  test('a `start` offset skips what precedes the body, and data after the end is left alone', () => {
    const buf = Buffer.from('HEAD3\r\nabc\r\n0\r\n\r\nNEXT');
    const decoder = new ChunkedDecoder();
    const seen: string[] = [];
    const used = decoder.push(buf, 4, (c) => seen.push(c.toString()));
    assert.equal(used, buf.length - 4);
    assert.equal(buf.subarray(used).toString(), 'NEXT');
    assert.deepEqual(seen, ['abc']);
    assert.equal(decoder.done, true);
    // Once done, nothing more is consumed.
    assert.equal(decoder.push(buf, used, () => assert.fail('no data after the end')), used);
  });

  test('done only after the final CRLF', () => {
    const decoder = new ChunkedDecoder();
    decoder.push(Buffer.from('0\r\n\r'), 0, () => {});
    assert.equal(decoder.done, false);
    decoder.push(Buffer.from('\n'), 0, () => {});
    assert.equal(decoder.done, true);
  });
});

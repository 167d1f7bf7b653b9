import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { once } from 'node:events';
import { collectLines } from './output.ts';

test('output is cut into lines across chunk boundaries, CRLF and split UTF-8 included', async () => {
  const stream = new PassThrough();
  const lines: string[] = [];
  collectLines(stream, (l) => lines.push(l));
  const euro = Buffer.from('€');
  stream.write('first li');
  stream.write('ne\r\nsecond\n\nprice 5');
  stream.write(euro.subarray(0, 1));
  stream.write(Buffer.concat([euro.subarray(1), Buffer.from('\nunterminated tail')]));
  stream.end();
  await once(stream, 'end');
  assert.deepEqual(lines, ['first line', 'second', '', 'price 5€', 'unterminated tail']);
});

test('a line without an end is handed over in bounded pieces', async () => {
  const stream = new PassThrough();
  const lines: string[] = [];
  collectLines(stream, (l) => lines.push(l), 10);
  stream.end('x'.repeat(25) + '\nok\n');
  await once(stream, 'end');
  assert.deepEqual(lines, ['x'.repeat(10), 'x'.repeat(10), 'x'.repeat(5), 'ok']);
});

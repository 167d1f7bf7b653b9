// An instance's stdout/stderr, cut into lines for the caller's logger.

import type { Readable } from 'node:stream';

/**
 * A line longer than this is handed over in pieces: a child that writes
 * megabytes without a newline must not grow the parent's memory without bound.
 */
export const MAX_LINE_CHARS = 16 * 1024;

/** Calls `onLine` for every line of `stream` (without its LF or CRLF), and once more for an unterminated tail. */
export function collectLines(stream: Readable, onLine: (line: string) => void, maxChars = MAX_LINE_CHARS): void {
  let pending = '';
  const emit = (line: string) => {
    let at = 0;
    for (; line.length - at > maxChars; at += maxChars) onLine(line.slice(at, at + maxChars));
    onLine(line.slice(at));
  };
  // setEncoding keeps a multi-byte UTF-8 character split across chunks whole.
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    pending += chunk;
    let start = 0;
    for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n', start)) {
      emit(pending.slice(start, nl > start && pending[nl - 1] === '\r' ? nl - 1 : nl));
      start = nl + 1;
    }
    pending = pending.slice(start);
    for (; pending.length > maxChars; pending = pending.slice(maxChars)) onLine(pending.slice(0, maxChars));
  });
  stream.on('end', () => {
    if (pending !== '') emit(pending);
    pending = '';
  });
  // A pipe error (EPIPE on a dying child) ends the output; the exit is reported elsewhere.
  stream.on('error', () => {});
}

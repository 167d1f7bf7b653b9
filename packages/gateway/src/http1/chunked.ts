// Strict chunked transfer-coding decoder (RFC 9112 §7.1). Chunk sizes are hex
// digits only, lines end in CRLF only, extensions are bounded and dropped,
// trailers are read and dropped. Data is handed on as zero-copy slices.

const CR = 13;
const LF = 10;
const MAX_LINE = 4096;

const enum_ = {
  SIZE: 0,
  EXT: 1,
  SIZE_LF: 2,
  DATA: 3,
  DATA_CR: 4,
  DATA_LF: 5,
  TRAILER: 6,
  TRAILER_LF: 7,
  DONE: 8,
} as const;
type State = (typeof enum_)[keyof typeof enum_];

export class ChunkedError extends Error {}

export class ChunkedDecoder {
  #state: State = enum_.SIZE;
  #size = 0;
  #digits = 0;
  #remaining = 0;
  #lineLength = 0;
  #trailerBytes = 0;
  #trailerLineEmpty = true;
  readonly #maxTrailerBytes: number;

  constructor(maxTrailerBytes = 16384) {
    this.#maxTrailerBytes = maxTrailerBytes;
  }

  get done(): boolean {
    return this.#state === enum_.DONE;
  }

  /**
   * Decodes from `buf[start..]`, calling `onData` with each data slice.
   * Returns the index just past the last byte consumed: the end of `buf`, or
   * the end of the message when it finishes inside `buf`.
   */
  push(buf: Buffer, start: number, onData: (chunk: Buffer) => void): number {
    let i = start;
    const len = buf.length;
    while (i < len) {
      switch (this.#state) {
        case enum_.SIZE: {
          const c = buf[i]!;
          const d = hexValue(c);
          if (d !== -1) {
            if (++this.#digits > 13) throw new ChunkedError('chunk size too large');
            this.#size = this.#size * 16 + d;
            i++;
          } else if (this.#digits === 0) {
            throw new ChunkedError('invalid chunk size');
          } else if (c === CR) {
            this.#state = enum_.SIZE_LF;
            i++;
          } else if (c === 0x3b /* ; */) {
            this.#state = enum_.EXT;
            this.#lineLength = 0;
            i++;
          } else {
            throw new ChunkedError('invalid character in chunk size');
          }
          break;
        }
        case enum_.EXT: {
          const c = buf[i]!;
          if (c === CR) this.#state = enum_.SIZE_LF;
          else if ((c < 0x20 && c !== 9) || c === 0x7f) throw new ChunkedError('invalid character in chunk extension');
          else if (++this.#lineLength > MAX_LINE) throw new ChunkedError('chunk extension too long');
          i++;
          break;
        }
        case enum_.SIZE_LF: {
          if (buf[i] !== LF) throw new ChunkedError('chunk size line not ended by CRLF');
          i++;
          if (this.#size === 0) {
            this.#state = enum_.TRAILER;
            this.#trailerLineEmpty = true;
          } else {
            this.#remaining = this.#size;
            this.#state = enum_.DATA;
          }
          break;
        }
        case enum_.DATA: {
          const take = Math.min(this.#remaining, len - i);
          onData(buf.subarray(i, i + take));
          i += take;
          this.#remaining -= take;
          if (this.#remaining === 0) this.#state = enum_.DATA_CR;
          break;
        }
        case enum_.DATA_CR:
          if (buf[i] !== CR) throw new ChunkedError('chunk data not followed by CRLF');
          this.#state = enum_.DATA_LF;
          i++;
          break;
        case enum_.DATA_LF:
          if (buf[i] !== LF) throw new ChunkedError('chunk data not followed by CRLF');
          this.#state = enum_.SIZE;
          this.#size = 0;
          this.#digits = 0;
          i++;
          break;
        case enum_.TRAILER: {
          const c = buf[i]!;
          if (c === CR) {
            this.#state = enum_.TRAILER_LF;
          } else if ((c < 0x20 && c !== 9) || c === 0x7f) {
            throw new ChunkedError('invalid character in trailer');
          } else {
            this.#trailerLineEmpty = false;
            if (++this.#trailerBytes > this.#maxTrailerBytes) throw new ChunkedError('trailer section too large');
          }
          i++;
          break;
        }
        case enum_.TRAILER_LF: {
          if (buf[i] !== LF) throw new ChunkedError('trailer line not ended by CRLF');
          i++;
          if (this.#trailerLineEmpty) {
            this.#state = enum_.DONE;
            return i;
          }
          this.#state = enum_.TRAILER;
          this.#trailerLineEmpty = true;
          break;
        }
        case enum_.DONE:
          return i;
      }
    }
    return i;
  }
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

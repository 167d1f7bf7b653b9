// Strict chunked transfer-coding decoder (RFC 9112 §7.1). Chunk sizes are hex
// digits only, lines end in CRLF only, extensions and trailer fields must
// follow their grammar (§7.1.1, §7.1.2) and are bounded, then dropped. Data is
// handed on as zero-copy slices. The grammar is enforced although nothing of
// an extension is kept: parsers that disagree on where a quoted extension or
// a malformed trailer line ends disagree on where the message ends.

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

// Where the decoder is inside `*( BWS ";" BWS name [ BWS "=" BWS value ] )`.
const EXT_NAME_START = 0;
const EXT_NAME = 1;
const EXT_AFTER_NAME = 2;
const EXT_VALUE_START = 3;
const EXT_TOKEN = 4;
const EXT_QUOTED = 5;
const EXT_QUOTED_PAIR = 6;
const EXT_AFTER_QUOTE = 7;
const EXT_BWS = 8;

// Where the decoder is inside a trailer field line.
const FIELD_START = 0;
const FIELD_NAME = 1;
const FIELD_VALUE = 2;

/** tchar (RFC 9110 §5.6.2). */
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") TCHAR[c.charCodeAt(0)] = 1;

export class ChunkedError extends Error {}

export class ChunkedDecoder {
  #state: State = enum_.SIZE;
  #size = 0;
  #digits = 0;
  #remaining = 0;
  #lineLength = 0;
  #ext = EXT_NAME_START;
  #trailerBytes = 0;
  #field = FIELD_START;
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
            this.#ext = EXT_NAME_START;
            this.#lineLength = 0;
            i++;
          } else {
            throw new ChunkedError('invalid character in chunk size');
          }
          break;
        }
        case enum_.EXT: {
          const c = buf[i]!;
          if (c === CR) {
            // The line may end after a name, a token value or a closing quote.
            if (this.#ext !== EXT_NAME && this.#ext !== EXT_TOKEN && this.#ext !== EXT_AFTER_QUOTE) throw new ChunkedError('invalid chunk extension');
            this.#state = enum_.SIZE_LF;
          } else {
            if (++this.#lineLength > MAX_LINE) throw new ChunkedError('chunk extension too long');
            this.#extByte(c);
          }
          i++;
          break;
        }
        case enum_.SIZE_LF: {
          if (buf[i] !== LF) throw new ChunkedError('chunk size line not ended by CRLF');
          i++;
          if (this.#size === 0) {
            this.#state = enum_.TRAILER;
            this.#field = FIELD_START;
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
            if (this.#field === FIELD_NAME) throw new ChunkedError('trailer line without a colon');
            this.#state = enum_.TRAILER_LF;
          } else {
            if (++this.#trailerBytes > this.#maxTrailerBytes) throw new ChunkedError('trailer section too large');
            this.#fieldByte(c);
          }
          i++;
          break;
        }
        case enum_.TRAILER_LF: {
          if (buf[i] !== LF) throw new ChunkedError('trailer line not ended by CRLF');
          i++;
          if (this.#field === FIELD_START) {
            this.#state = enum_.DONE;
            return i;
          }
          this.#state = enum_.TRAILER;
          this.#field = FIELD_START;
          break;
        }
        case enum_.DONE:
          return i;
      }
    }
    return i;
  }

  /** One byte of a chunk extension other than the CR that ends the line. */
  #extByte(c: number): void {
    const ws = c === 0x20 || c === 0x09;
    switch (this.#ext) {
      case EXT_NAME_START:
        if (TCHAR[c] === 1) this.#ext = EXT_NAME;
        else if (!ws) throw new ChunkedError('invalid chunk extension name');
        return;
      case EXT_NAME:
        if (TCHAR[c] === 1) return;
        if (c === 0x3d /* = */) this.#ext = EXT_VALUE_START;
        else if (c === 0x3b) this.#ext = EXT_NAME_START;
        else if (ws) this.#ext = EXT_AFTER_NAME;
        else throw new ChunkedError('invalid chunk extension name');
        return;
      case EXT_AFTER_NAME:
        if (c === 0x3d) this.#ext = EXT_VALUE_START;
        else if (c === 0x3b) this.#ext = EXT_NAME_START;
        else if (!ws) throw new ChunkedError('invalid chunk extension');
        return;
      case EXT_VALUE_START:
        if (TCHAR[c] === 1) this.#ext = EXT_TOKEN;
        else if (c === 0x22 /* " */) this.#ext = EXT_QUOTED;
        else if (!ws) throw new ChunkedError('invalid chunk extension value');
        return;
      case EXT_TOKEN:
        if (TCHAR[c] === 1) return;
        if (c === 0x3b) this.#ext = EXT_NAME_START;
        else if (ws) this.#ext = EXT_BWS;
        else throw new ChunkedError('invalid chunk extension value');
        return;
      case EXT_QUOTED:
        // qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
        if (c === 0x22) this.#ext = EXT_AFTER_QUOTE;
        else if (c === 0x5c /* \ */) this.#ext = EXT_QUOTED_PAIR;
        else if ((c < 0x20 && c !== 0x09) || c === 0x7f) throw new ChunkedError('invalid character in chunk extension');
        return;
      case EXT_QUOTED_PAIR:
        if ((c < 0x20 && c !== 0x09) || c === 0x7f) throw new ChunkedError('invalid character in chunk extension');
        this.#ext = EXT_QUOTED;
        return;
      case EXT_AFTER_QUOTE:
      case EXT_BWS:
        if (c === 0x3b) this.#ext = EXT_NAME_START;
        else if (ws) this.#ext = EXT_BWS;
        else throw new ChunkedError('invalid chunk extension');
        return;
      default:
        return;
    }
  }

  /** One byte of a trailer field line other than its CR: `name ":" value`, no obs-fold. */
  #fieldByte(c: number): void {
    if (this.#field === FIELD_VALUE) {
      if ((c < 0x20 && c !== 0x09) || c === 0x7f) throw new ChunkedError('invalid character in trailer');
    } else if (TCHAR[c] === 1) {
      this.#field = FIELD_NAME;
    } else if (c === 0x3a /* : */ && this.#field === FIELD_NAME) {
      this.#field = FIELD_VALUE;
    } else {
      throw new ChunkedError('invalid trailer field name');
    }
  }
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

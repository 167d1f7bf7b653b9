// Buffer#latin1Slice is the direct binding behind toString('latin1'): it skips
// the encoding lookup on the hot path. It is public API, just untyped.
interface Latin1Buffer {
  latin1Slice(start: number, end: number): string;
}

export function latin1(buf: Buffer, start: number, end: number): string {
  return (buf as unknown as Latin1Buffer).latin1Slice(start, end);
}

// One JSON line per request, in the same shape as pino's lines (level, time,
// service, msg) so log shippers see one stream. Built by hand: on a proxy
// whose per-request budget is tens of microseconds, pino's generic path
// (serialisers, redaction) cost as much as the proxying itself.
import type { RequestRecord } from '../entrypoint/http1-connection.ts';

// The parser admits only visible ASCII in the target and Host (and a method
// is a token), so a quote or backslash is the only thing that needs escaping.
const NEEDS_ESCAPE = /["\\]/;

export class AccessLog {
  readonly #write: (line: string) => void;
  #lastMs = 0;
  #time = '';

  constructor(write: (line: string) => void) {
    this.#write = write;
  }

  log(record: RequestRecord, seconds: number): void {
    const now = Date.now();
    if (now !== this.#lastMs) {
      this.#lastMs = now;
      this.#time = new Date(now).toISOString();
    }
    const upstreamMs = record.headersAt === 0 ? 'null' : String(Math.round((record.headersAt - record.startedAt) * 1e3) / 1e3);
    // Client-controlled strings are escaped when they hold a quote or
    // backslash; numbers, the method (a token) and addresses cannot break the line.
    let line =
      '{"level":"info","time":"' + this.#time +
      '","service":"rampart-gateway","msg":"request","method":' + JSON.stringify(record.method) +
      ',"path":' + (NEEDS_ESCAPE.test(record.target) ? JSON.stringify(record.target) : '"' + record.target + '"') +
      ',"host":' + (NEEDS_ESCAPE.test(record.host) ? JSON.stringify(record.host) : '"' + record.host + '"') +
      ',"remote":"' + record.remote + '"' +
      ',"route":' + (record.route === null ? 'null' : JSON.stringify(record.route)) +
      ',"server":' + (record.server === null ? 'null' : JSON.stringify(record.server)) +
      ',"status":' + record.status +
      ',"bytesIn":' + record.bytesIn +
      ',"bytesOut":' + record.bytesOut +
      ',"ms":' + Math.round(seconds * 1e6) / 1e3 +
      ',"upstreamMs":' + upstreamMs;
    if (record.error !== null) line += ',"error":"' + record.error.code + '"';
    this.#write(line + '}\n');
  }
}

// One JSON line per request, in the same shape as pino's lines (level, time,
// service, msg) so log shippers see one stream. Built by hand: on a proxy
// whose per-request budget is tens of microseconds, pino's generic path
// (serialisers, redaction) cost as much as the proxying itself.
import type { RequestRecord } from '../entrypoint/http1-connection.ts';

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
    const upstreamMs = record.headersAt === 0n ? 'null' : String(Math.round(Number(record.headersAt - record.startedAt) / 1e3) / 1e3);
    // Client-controlled strings (path, host, method) go through JSON.stringify;
    // numbers and our own identifiers cannot break the line.
    let line =
      '{"level":"info","time":"' + this.#time +
      '","service":"rampart-gateway","msg":"request","method":' + JSON.stringify(record.method) +
      ',"path":' + JSON.stringify(record.target) +
      ',"host":' + JSON.stringify(record.host) +
      ',"remote":' + JSON.stringify(record.remote) +
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

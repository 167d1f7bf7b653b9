// pino JSON lines on stdout. Headers that carry secrets are redacted wherever
// they appear, so a debug dump of a request never leaks a credential.
import pino from 'pino';

export type Logger = pino.Logger;

export const REDACT = [
  '*.headers.authorization',
  '*.headers.cookie',
  '*.headers["set-cookie"]',
  '*.headers["proxy-authorization"]',
  '*.headers["x-api-key"]',
  'headers.authorization',
  'headers.cookie',
  'headers["set-cookie"]',
  'headers["proxy-authorization"]',
  'headers["x-api-key"]',
];

/** Longest a written line waits in the buffer before it reaches stdout. */
const FLUSH_INTERVAL_MS = 250;

/** Raw line writers of each logger, for the access log's hand-built lines. */
const lineWriters = new WeakMap<Logger, (line: string) => void>();

/**
 * Writes a pre-serialised JSON line to the logger's destination. The access
 * log uses this: building its line by hand costs a fraction of pino's
 * generic path (redaction, serialisers), and it holds no secrets to redact.
 */
export function lineWriter(logger: Logger): (line: string) => void {
  const writer = lineWriters.get(logger);
  if (writer) return writer;
  const stream = (logger as unknown as Record<symbol, { write(s: string): unknown }>)[pino.symbols.streamSym]!;
  const fallback = (line: string) => void stream.write(line);
  lineWriters.set(logger, fallback);
  return fallback;
}

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  // Asynchronous, batched writes: the access log must not block the event
  // loop on a slow terminal or pipe (pino flushes what is left on exit).
  const stdout = destination === undefined ? pino.destination({ dest: 1, sync: false, minLength: 4096 }) : null;
  let unflushed = false;
  const logger = pino(
    {
      level,
      base: { service: 'rampart-gateway' },
      redact: { paths: REDACT, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      hooks: {
        logMethod(args, method) {
          unflushed = true;
          method.apply(this, args);
        },
      },
    },
    destination ?? stdout!,
  );
  const dest = destination ?? stdout!;
  lineWriters.set(logger, (line) => {
    unflushed = true;
    dest.write(line);
  });
  if (stdout !== null) {
    // minLength holds lines until 4 KiB have gathered, which under light
    // traffic means minutes, or forever for the one line that says why a
    // reload was refused. Flushing on a timer bounds the wait.
    const timer = setInterval(() => {
      if (!unflushed) return;
      unflushed = false;
      try {
        stdout.flush();
      } catch {
        // Destroyed at exit: nothing left to flush.
      }
    }, FLUSH_INTERVAL_MS);
    timer.unref();
  }
  return logger;
}

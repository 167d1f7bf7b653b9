// /healthz: ready when the database answers. The gateway's health checks and
// the supervisor's readiness gate poll it; a timeout keeps a database that
// hangs (rather than refuses) from hanging the check too.
import type { FastifyInstance } from 'fastify';
import { sql, type Db } from '@rampart/data';

const TIMEOUT_MS = 2000;

export function healthRoutes(app: FastifyInstance, db: Db): void {
  app.get('/healthz', async function healthz(request, reply) {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer from the database in ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
    });
    try {
      await Promise.race([db.query(sql`select 1`), timeout]);
    } catch (err) {
      request.log.warn({ err }, 'health check: database unreachable');
      return reply.code(503).header('cache-control', 'no-store').type('text/plain; charset=utf-8').send('database unreachable');
    } finally {
      clearTimeout(timer);
    }
    return reply.header('cache-control', 'no-store').type('text/plain; charset=utf-8').send('ok');
  });
}

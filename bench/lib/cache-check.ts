// A cache bench in which a peer quietly forwards every request measures a
// proxy and calls it a cache. The backend counts what reaches it (stub_status),
// so each cache proves it answers by itself: before it is measured, and during
// every measured run.
import { countBackendRequests } from './backend.ts';
import { checkServes } from './smoke.ts';

const REPEATS = 5;

/**
 * After the smoke check's GET (a miss that stores the response), waits up to
 * `deadlineMs` for a GET the backend does not see (a cache may finish storing
 * after it answered), then requires five more in a row.
 */
export async function checkServesHits(port: number, backendPort: number, path: string, bytes: number, deadlineMs = 3000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const { backendRequests } = await countBackendRequests(backendPort, () => checkServes(port, path, bytes));
    if (backendRequests === 0) break;
    if (Date.now() > deadline) throw new Error(`does not serve hits: every GET of ${path} for ${deadlineMs} ms reached the backend`);
  }
  const { backendRequests } = await countBackendRequests(backendPort, async () => {
    for (let i = 0; i < REPEATS; i++) await checkServes(port, path, bytes);
  });
  if (backendRequests > 0) throw new Error(`does not serve hits: ${backendRequests} of ${REPEATS} repeated GETs of ${path} reached the backend`);
}

/**
 * Refuses a measured run in which the backend saw requests: the response is
 * fresh for an hour, so a cache should send none. One in a thousand is let
 * through (a cache may refresh or evict), and the count is reported anyway.
 */
export function assertHits(tool: string, requests: number, backendRequests: number): void {
  if (backendRequests > requests / 1000) {
    throw new Error(`NOT A CACHE RUN: ${backendRequests} of ${requests} requests reached the backend through ${tool}; sample discarded`);
  }
}

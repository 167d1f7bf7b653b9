import type { Tool } from './index.ts';

/**
 * The backend with nothing in front: the ceiling every proxy is compared to.
 * In the cache scenario too: a cache hit can at best cost what the origin's
 * static file costs.
 */
export const direct: Tool = {
  name: 'direct',
  needs: [],
  jit: false,
  setups: ['proxy', 'cache'],
  start: (ctx) => Promise.resolve({ port: ctx.backendPort, child: undefined }),
};

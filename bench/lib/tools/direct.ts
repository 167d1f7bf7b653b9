import type { Tool } from './index.ts';

/** The backend with nothing in front: the ceiling every proxy is compared to. */
export const direct: Tool = {
  name: 'direct',
  needs: [],
  jit: false,
  start: (ctx) => Promise.resolve({ port: ctx.backendPort, child: undefined }),
};

import { join } from 'node:path';
import { freePort } from '../process.ts';
import type { Tool, ToolContext, ToolName } from './index.ts';
import { launch } from './launch.ts';

// Node proxies from npm, each a tiny script in bench/peers/ taking
// <port> <backend url>; their modules come from bench/node_modules.
function nodePeer(name: ToolName, script: string): Tool {
  return {
    name,
    needs: ['npm-peers'],
    jit: true,
    setups: ['proxy'],
    async start(ctx: ToolContext) {
      const port = await freePort();
      return launch(ctx, {
        name,
        port,
        command: ctx.nodeBin,
        args: [join(ctx.benchDir, 'peers', script), String(port), `http://127.0.0.1:${ctx.backendPort}`],
        env: { ...process.env, NODE_ENV: 'production' },
      });
    },
  };
}

export const nodeHttpProxy = nodePeer('node-http-proxy', 'node-http-proxy.js');
export const fastifyHttpProxy = nodePeer('fastify-http-proxy', 'fastify-http-proxy.js');
/** The bare building block (node:http + undici Pool.dispatch): rampart's floor. */
export const undiciProxy = nodePeer('undici-proxy', 'undici-proxy.js');

// The origin every tool sits in front of: nginx serving static files from
// memory-cached disk, one worker, no access log, connections never recycled.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './process.ts';
import type { Scenario } from './scenarios.ts';
import type { Running, ToolContext } from './tools/index.ts';
import { startNginx } from './tools/nginx.ts';

export async function startBackend(
  ctx: Pick<ToolContext, 'dir' | 'core'>,
  nginxBin: string,
  selected: readonly Scenario[],
): Promise<Running> {
  const root = join(ctx.dir, 'www');
  mkdirSync(root, { recursive: true });
  for (const scenario of selected) writeFileSync(join(root, scenario.file), 'x'.repeat(scenario.bytes));
  // The worker drops to `nobody` when started as root; mkdtemp made the run
  // dir 0700, so open the way to the files.
  chmodSync(ctx.dir, 0o755);
  const port = await freePort();
  // Two more ports on the same server, so balancer scenarios have three
  // servers to spread over without a second backend competing for the core.
  const extra = [await freePort(), await freePort()];
  const server = `${extra.map((p) => `listen 127.0.0.1:${p};`).join('\n    ')}
    root ${root};
    sendfile on;
    tcp_nopush on;
    open_file_cache max=64;
    location / { }`;
  const running = await startNginx(ctx, nginxBin, 'backend', port, server);
  return { ...running, extraPorts: extra };
}

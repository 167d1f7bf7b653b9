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
  const server = `root ${root};
    sendfile on;
    tcp_nopush on;
    open_file_cache max=64;
    location / { }`;
  return startNginx(ctx, nginxBin, 'backend', port, server);
}

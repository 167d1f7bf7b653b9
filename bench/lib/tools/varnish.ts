import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../process.ts';
import type { Tool } from './index.ts';
import { launch } from './launch.ts';
import { required } from './nginx.ts';

/**
 * varnishd's command line. The built-in VCL with `-b` is Varnish as it comes:
 * it caches what the response's Cache-Control allows, keeps backend
 * connections alive, and coalesces concurrent misses of one object on its
 * waiting list (no setting needed).
 *
 * - `-F`: foreground, so the PID we hold is the manager, which stops its
 *   cache child on SIGTERM.
 * - `-n`: its working dir (shared-memory log, compiled VCL) on tmpfs, as
 *   Varnish's docs advise; `-s malloc,64m`: the store in memory, bounded like
 *   nginx's `max_size=64m`.
 * - `-T none`: no management port (nothing here uses varnishadm).
 * - Threads: every peer is pinned to one core, so one pool (default 2, meant
 *   for several cores) with Varnish's default total of 200 threads started up
 *   front (default 2 × 100), enough for 200 connections without creating
 *   threads mid-run.
 * - No `-j`: as root the default jail (`unix`) runs the manager as user
 *   `varnish` and the cache as `vcache`, both created by the Debian package;
 *   not as root, Varnish runs as the caller.
 */
export function varnishArgs(port: number, backendPort: number, workDir: string): string[] {
  return [
    '-F',
    '-a', `127.0.0.1:${port}`,
    '-b', `127.0.0.1:${backendPort}`,
    '-s', 'malloc,64m',
    '-n', workDir,
    '-T', 'none',
    '-p', 'thread_pools=1',
    '-p', 'thread_pool_min=200',
    '-p', 'thread_pool_max=1000',
  ];
}

export const varnish: Tool = {
  name: 'varnish',
  needs: ['varnishd'],
  jit: false,
  // A cache only: it has no plain-proxy setup in this bench.
  setups: ['cache'],
  async start(ctx) {
    const port = await freePort();
    const name = `varnish-${port}`;
    // The jailed users must get through to the working dir varnishd creates.
    chmodSync(ctx.memDir, 0o755);
    return launch(ctx, {
      name,
      port,
      command: required(ctx.bins.varnishd, 'varnishd'),
      args: varnishArgs(port, ctx.backendPort, join(ctx.memDir, name)),
    });
  },
};

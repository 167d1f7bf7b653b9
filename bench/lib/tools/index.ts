// The tools measured side by side. Each one starts itself in front of the
// backend on a free loopback port, pinned to the proxies' core, with one
// worker/thread, and keeps keep-alive connections to the backend.
import type { Child } from '../process.ts';
import { caddy } from './caddy.ts';
import { direct } from './direct.ts';
import { haproxy } from './haproxy.ts';
import { nginx } from './nginx.ts';
import { fastifyHttpProxy, nodeHttpProxy, undiciProxy } from './node-peers.ts';
import { rampart, rampartBalanced } from './rampart.ts';
import { varnish } from './varnish.ts';

export const toolNames = [
  'direct',
  'rampart',
  'nginx',
  'haproxy',
  'caddy',
  'varnish',
  'node-http-proxy',
  'fastify-http-proxy',
  'undici-proxy',
  'rampart-rr3',
  'rampart-p2c3',
  'rampart-hash3',
] as const;
export type ToolName = (typeof toolNames)[number];

/** What a tool needs on the machine: a system binary or the bench's npm install. */
export type Requirement = 'nginx' | 'haproxy' | 'caddy' | 'varnishd' | 'npm-peers';
export type SystemBinary = Exclude<Requirement, 'npm-peers'>;

/**
 * How a tool is configured for a scenario: `proxy` forwards every request
 * (the proxy scenarios), `cache` stores cacheable responses and answers
 * repeats itself (the edge-cache scenario, the coalescing round). A tool runs
 * one instance per setup it is measured in.
 */
export type Setup = 'proxy' | 'cache';

export interface ToolContext {
  /** Temp dir of this run; every config, pid file and log goes here. */
  dir: string;
  backendPort: number;
  /** All the backend's ports (the first is backendPort): three servers for balancer scenarios. */
  backendPorts: readonly number[];
  /** CPU list for the proxies and the backend; undefined when not pinning. */
  core: string | undefined;
  bins: Partial<Record<SystemBinary, string>>;
  /**
   * A folder for the caches' files, on tmpfs (/dev/shm) when the machine has
   * one, so that nginx's cache files and Varnish's working dir live in memory
   * like rampart's store: memory against memory.
   */
  memDir: string;
  nodeBin: string;
  repoDir: string;
  benchDir: string;
}

export interface Running {
  port: number;
  /** undefined for `direct`, which is the backend itself. */
  child: Child | undefined;
  /** More ports the same process listens on (the backend's). */
  extraPorts?: readonly number[];
}

export interface Tool {
  name: ToolName;
  needs: readonly Requirement[];
  /** Runs on V8, whose JIT makes the first seconds slower; native servers are at speed from the first request. */
  jit: boolean;
  /** The setups it can run. */
  setups: readonly Setup[];
  start(ctx: ToolContext, setup: Setup): Promise<Running>;
}

const all: readonly Tool[] = [
  direct,
  rampart,
  nginx,
  haproxy,
  caddy,
  varnish,
  nodeHttpProxy,
  fastifyHttpProxy,
  undiciProxy,
  rampartBalanced('rampart-rr3', 'round-robin'),
  rampartBalanced('rampart-p2c3', 'p2c'),
  rampartBalanced('rampart-hash3', 'hash'),
];

export function tool(name: ToolName): Tool {
  const found = all.find((t) => t.name === name);
  if (found === undefined) throw new Error(`unknown tool ${name}`);
  return found;
}

export function isToolName(name: string): name is ToolName {
  return (toolNames as readonly string[]).includes(name);
}

// Readiness: an instance joins the balancer only once it answers.
//
// With a health path, ready means `GET http://127.0.0.1:<port><path>` returns
// 2xx within the probe timeout (Kubernetes' readinessProbe httpGet rule: "any
// code greater than or equal to 200 and less than 400" — we take only 2xx so a
// redirect to a login page is not mistaken for health). Without one, ready
// means the port accepts a TCP connection (Kubernetes' tcpSocket probe).
// PM2 marks an instance online as soon as it is forked, which is how requests
// reach a server that is not listening yet (pm2#2573 and its duplicates).

import http from 'node:http';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ReadinessOptions {
  readonly host: string;
  readonly port: number;
  /** Health path (starting with /); undefined = TCP connect. */
  readonly path: string | undefined;
  /** Give up after this long. */
  readonly timeoutMs: number;
  /** Wait between failed probes. */
  readonly intervalMs: number;
  /** One probe's limit. */
  readonly probeTimeoutMs: number;
  /** Aborted when the process exits or is stopped while we wait. */
  readonly signal: AbortSignal;
}

export type ReadinessOutcome = 'ready' | 'timeout' | 'aborted';

export async function waitUntilReady(options: ReadinessOptions): Promise<ReadinessOutcome> {
  const deadline = performance.now() + options.timeoutMs;
  for (;;) {
    if (options.signal.aborted) return 'aborted';
    const left = deadline - performance.now();
    if (left <= 0) return 'timeout';
    const ok = await probe(options, Math.min(options.probeTimeoutMs, left));
    if (options.signal.aborted) return 'aborted';
    if (ok) return 'ready';
    const wait = Math.min(options.intervalMs, deadline - performance.now());
    if (wait <= 0) return 'timeout';
    try {
      await sleep(wait, undefined, { signal: options.signal });
    } catch {
      return 'aborted';
    }
  }
}

function probe(options: ReadinessOptions, timeoutMs: number): Promise<boolean> {
  return options.path === undefined ? probeTcp(options, timeoutMs) : probeHttp(options, options.path, timeoutMs);
}

function probeHttp(options: ReadinessOptions, path: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    // agent: false — one connection per probe, closed after it, so a probe
    // never holds a keep-alive socket that would delay the instance's shutdown.
    const req = http.get({ host: options.host, port: options.port, path, agent: false, timeout: timeoutMs, signal: options.signal, headers: { 'user-agent': 'rampart-supervisor' } }, (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      resolve(status >= 200 && status < 300);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

function probeTcp(options: ReadinessOptions, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: options.host, port: options.port, timeout: timeoutMs });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

// The admin listener: status and metrics for operators and outside checks.
// It has no authentication, so the config defaults it to loopback, a bare
// port binds loopback too, and the gateway warns when it is bound anywhere else.
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { ListenAddress } from '../config/parse-values.ts';
import type { Gateway } from '../gateway.ts';

export interface AdminServer {
  readonly port: number;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export async function startAdmin(address: ListenAddress, gateway: Gateway): Promise<AdminServer> {
  const server = http.createServer((req, res) => {
    res.setHeader('cache-control', 'no-store');
    res.setHeader('x-content-type-options', 'nosniff');
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    // POST /cache/purge?url=…|prefix=…|tag=…|all=1
    if (path === '/cache/purge') {
      if (req.method !== 'POST') {
        res.writeHead(405, { allow: 'POST', 'content-type': 'text/plain' }).end('405 Method Not Allowed: use POST /cache/purge?url=…, ?prefix=…, ?tag=… or ?all=1\n');
        return;
      }
      gateway.purgeCache(new URLSearchParams(q === -1 ? '' : url.slice(q + 1))).then(
        (result) => {
          if (typeof result === 'string') res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: result }) + '\n');
          else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ purged: result.purged }) + '\n');
        },
        (err: unknown) => {
          const e = err as { code?: string; status?: number; message?: string };
          const status = e.status !== undefined && e.status >= 400 ? e.status : 500;
          res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ code: e.code ?? null, error: e.message ?? String(err) }) + '\n');
        },
      );
      return;
    }
    // POST /upstreams/<name>/restart: a rolling restart of the instances of a `run:` upstream.
    const restart = /^\/upstreams\/([^/]+)\/restart$/.exec(path);
    if (restart !== null) {
      if (req.method !== 'POST') {
        res.writeHead(405, { allow: 'POST', 'content-type': 'text/plain' }).end('405 Method Not Allowed: use POST\n');
        return;
      }
      const name = decodeURIComponent(restart[1]!);
      const done = gateway.restartUpstream(name);
      if (done === null) {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: `upstream ${name} has no instances started by rampart (no run: under rampart up)` }) + '\n');
        return;
      }
      // Answered when the last instance is replaced, so a script can wait on it.
      done.then(
        () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ upstream: name, restarted: true, status: (gateway.status().upstreams as Record<string, unknown>)[name] ?? null }) + '\n'),
        (err: unknown) => {
          const e = err as { code?: string; message?: string };
          res.writeHead(409, { 'content-type': 'application/json' }).end(JSON.stringify({ upstream: name, restarted: false, code: e.code ?? null, error: e.message ?? String(err) }) + '\n');
        },
      );
      return;
    }
    // POST /upstreams/<name>/servers/<id>/drain | undrain
    const action = /^\/upstreams\/([^/]+)\/servers\/([^/]+)\/(drain|undrain)$/.exec(path);
    if (action !== null) {
      if (req.method !== 'POST') {
        res.writeHead(405, { allow: 'POST', 'content-type': 'text/plain' }).end('405 Method Not Allowed: use POST\n');
        return;
      }
      const [, upstream, id, verb] = action as unknown as [string, string, string, 'drain' | 'undrain'];
      const server = gateway.setDraining(decodeURIComponent(upstream), decodeURIComponent(id), verb === 'drain');
      if (server === null) {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: `no server ${id} in upstream ${upstream}` }) + '\n');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(server) + '\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('405 Method Not Allowed\n');
      return;
    }
    switch (path) {
      case '/status':
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(gateway.status(), null, 2) + '\n');
        return;
      case '/cache':
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(gateway.cacheStatus(), null, 2) + '\n');
        return;
      case '/metrics':
        gateway.metrics.registry.metrics().then(
          (text) => res.writeHead(200, { 'content-type': gateway.metrics.registry.contentType }).end(text),
          (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${String(err)}\n`),
        );
        return;
      case '/':
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('rampart admin\n\nGET  /status                                   servers, health, in-flight and served counts (JSON)\nGET  /metrics                                  Prometheus metrics\nPOST /upstreams/<name>/servers/<id>/drain      no new requests; in-flight ones finish\nPOST /upstreams/<name>/servers/<id>/undrain    back in rotation (slow start applies)\nPOST /upstreams/<name>/restart                 rolling restart of a run: upstream (rampart up); answers when done\nGET  /cache                                    edge cache: store size, entries, evictions; per-route hits, misses, … (JSON)\nPOST /cache/purge?url=http://host/path?q       remove every stored variant of that URL (or url=/path?q when the key has no host)\nPOST /cache/purge?prefix=http://host/path      remove every URL starting so\nPOST /cache/purge?tag=<name>                   remove what was stored with Cache-Tag / Surrogate-Key <name>\nPOST /cache/purge?all=1                        empty the cache; each purge answers {"purged": n}\n');
        return;
      default:
        res.writeHead(404, { 'content-type': 'text/plain' }).end('404 Not Found\n');
    }
  });
  server.listen({ port: address.port, host: address.host ?? '127.0.0.1' });
  await once(server, 'listening');
  // A bare port binds loopback (above): reachable from elsewhere only when a
  // non-loopback host was written out.
  if (address.host !== undefined && !LOOPBACK.has(address.host)) {
    gateway.logger.warn({ admin: address }, 'the admin listener is reachable from other hosts and has no authentication');
  }
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

// The peers' generated configs: what makes the comparison fair is in these
// lines (one worker, the store in memory, the same bound, coalescing on), so
// a change to any of them shows up here first.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../../packages/gateway/src/config/load.ts';
import { backendServer, parseStubStatus } from '../backend.ts';
import { nginxConf, nginxProxy } from './nginx.ts';
import { rampartYaml } from './rampart.ts';
import { varnishArgs } from './varnish.ts';

describe('nginx', () => {
  it('caches with proxy_cache on the given (tmpfs) dir, bounded at 64 MiB, with the cache lock', () => {
    const { httpExtra, server } = nginxProxy(9000, 'cache', '/dev/shm/rampart-bench-x/nginx-cache-1');
    assert.match(httpExtra, /server 127\.0\.0\.1:9000;/);
    assert.match(httpExtra, /proxy_cache_path \/dev\/shm\/rampart-bench-x\/nginx-cache-1 levels=1:2 keys_zone=bench:10m max_size=64m inactive=1h use_temp_path=off;/);
    assert.match(server, /proxy_cache bench;/);
    assert.match(server, /proxy_cache_lock on;/);
    // Freshness must come from the response, as for the other caches.
    assert.doesNotMatch(server, /proxy_cache_valid|proxy_ignore_headers/);
  });

  it('keeps the proxy setup of the other scenarios free of any cache', () => {
    const { httpExtra, server } = nginxProxy(9000, 'proxy', '/unused');
    assert.doesNotMatch(`${httpExtra}${server}`, /proxy_cache/);
    assert.match(server, /proxy_max_temp_file_size 0;/);
    assert.match(httpExtra, /keepalive 256;/);
  });

  it('runs one worker with every path inside its own folder', () => {
    const conf = nginxConf('/tmp/run/nginx-cache-1', 8080, 'location / { }');
    assert.match(conf, /^worker_processes 1;$/m);
    assert.match(conf, /^daemon off;$/m);
    assert.match(conf, /pid \/tmp\/run\/nginx-cache-1\/nginx\.pid;/);
    assert.match(conf, /listen 127\.0\.0\.1:8080;/);
    assert.match(conf, /access_log off;/);
  });
});

describe('varnish', () => {
  it('runs in the foreground with a 64 MiB malloc store, one pool and its working dir where it is told', () => {
    const args = varnishArgs(8081, 9000, '/dev/shm/rampart-bench-x/varnish-8081');
    const value = (flag: string): string[] => args.flatMap((a, i) => (a === flag ? [args[i + 1] ?? ''] : []));
    assert.ok(args.includes('-F'));
    assert.deepEqual(value('-a'), ['127.0.0.1:8081']);
    assert.deepEqual(value('-b'), ['127.0.0.1:9000']);
    assert.deepEqual(value('-s'), ['malloc,64m']);
    assert.deepEqual(value('-n'), ['/dev/shm/rampart-bench-x/varnish-8081']);
    assert.deepEqual(value('-T'), ['none']);
    assert.deepEqual(value('-p'), ['thread_pools=1', 'thread_pool_min=200', 'thread_pool_max=1000']);
    // The built-in VCL: no -f, so Varnish caches exactly as it comes.
    assert.ok(!args.includes('-f'));
  });
});

describe('rampart', () => {
  const base = { port: 8082, adminPort: 8083, servers: [9000] };

  it('turns the edge cache on for the route, with a 64 MiB memory store, and the file is a valid config', () => {
    const yaml = rampartYaml({ ...base, cache: true });
    assert.match(yaml, /^ {4}cache: true$/m);
    assert.match(yaml, /^cache: \{ store: memory, maxBytes: 64MiB \}$/m);
    assert.doesNotThrow(() => parseConfig(yaml, 'bench-cache.yaml'));
  });

  it('leaves the cache out of the proxy setup', () => {
    const yaml = rampartYaml({ ...base, cache: false });
    assert.doesNotMatch(yaml, /cache/);
    assert.doesNotThrow(() => parseConfig(yaml, 'bench-proxy.yaml'));
  });

  it('spreads over every backend port with the balancing method asked for', () => {
    const yaml = rampartYaml({ ...base, servers: [9000, 9001, 9002], balance: 'p2c', cache: false });
    assert.match(yaml, /servers: \[ "http:\/\/127\.0\.0\.1:9000", "http:\/\/127\.0\.0\.1:9001", "http:\/\/127\.0\.0\.1:9002" \]/);
    assert.match(yaml, /balance: p2c/);
    assert.doesNotThrow(() => parseConfig(yaml, 'bench-p2c.yaml'));
  });
});

describe('backend', () => {
  it('marks /cache/ cacheable for an hour and counts requests with stub_status', () => {
    const server = backendServer('/tmp/run/www', [9001, 9002]);
    assert.match(server, /location \/cache\/ \{ add_header Cache-Control "public, max-age=3600" always; \}/);
    assert.match(server, /location = \/__bench\/requests \{ stub_status; \}/);
    assert.match(server, /listen 127\.0\.0\.1:9001;\s+listen 127\.0\.0\.1:9002;/);
  });

  it('reads the request counter from stub_status', () => {
    // Captured from nginx 1.22.1.
    const text = 'Active connections: 3 \nserver accepts handled requests\n 12 12 4711 \nReading: 0 Writing: 1 Waiting: 2 \n';
    assert.equal(parseStubStatus(text), 4711);
    assert.throws(() => parseStubStatus('<html>404</html>'), /unreadable stub_status/);
  });
});

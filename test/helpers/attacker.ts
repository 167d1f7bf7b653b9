// Servers for the browser security tests (test/e2e/browser-*.test.ts).
//
// startAttackerSite: the attacker's web site, a plain node:http server that
// serves the pages a test gives it and records every request it receives (a
// stolen cookie arrives as one). One port, two origins: the app runs at
// http://localhost:<p1>, so http://127.0.0.1:<p2> is another site, while
// http://localhost:<p2> is the same site on another origin (a site is scheme
// plus registrable domain; the port does not count: RFC 6265bis §5.2, HTML
// "same site"), which is where SameSite cookies stop helping.
//
// startReflectingServer: the lecture's Flask 404 handler, `return "Not Found: "
// + request.path`, unescaped and without CSP; the control that proves the XSS
// detection in the tests can see an attack that works.
//
// watchServer: what the app's server received and answered, for requests
// whose answer the browser keeps from the page.
import diagnostics from 'node:diagnostics_channel';
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  method: string;
  /** Path and query as received. */
  url: string;
  host: string;
}

export interface AttackerSite {
  /** http://127.0.0.1:<port>: another site than the app at http://localhost:<other port>. */
  readonly crossSite: string;
  /** http://localhost:<port>: the app's site, another origin. */
  readonly sameSite: string;
  /** Every request received, in order, including the ones for pages. */
  readonly seen: readonly SeenRequest[];
  /** Serves `body` as text/html at `path` (without the query) from now on. */
  serve(path: string, body: string): void;
  close(): Promise<void>;
}

async function listen(server: http.Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

function closer(server: http.Server): () => Promise<void> {
  return () =>
    new Promise<void>((resolve, reject) => {
      server.close((err) => (err ? reject(err) : resolve()));
      // Chromium keeps connections alive; close() alone would wait for them.
      server.closeAllConnections();
    });
}

function pathOf(url: string): string {
  return url.split('?')[0] ?? '/';
}

export async function startAttackerSite(): Promise<AttackerSite> {
  const pages = new Map<string, string>();
  const seen: SeenRequest[] = [];
  const server = http.createServer(function attacker(req, res) {
    seen.push({ method: req.method ?? '', url: req.url ?? '', host: req.headers.host ?? '' });
    const page = pages.get(pathOf(req.url ?? '/'));
    if (page === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('nothing here');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(page);
  });
  const port = await listen(server);
  return {
    crossSite: `http://127.0.0.1:${port}`,
    sameSite: `http://localhost:${port}`,
    seen,
    serve(path, body) {
      pages.set(path, body);
    },
    close: closer(server),
  };
}

export interface ReflectingServer {
  readonly url: string;
  close(): Promise<void>;
}

/** The cookie the reflecting server sets, readable from script (no HttpOnly), for a payload to steal. */
export const REFLECTED_COOKIE = 'session=victim-secret';

/**
 * Every path is a 404 page that echoes the decoded path as markup; /search
 * also echoes `q` into an attribute, the way a careless search form does.
 * No CSP, no escaping.
 */
export async function startReflectingServer(): Promise<ReflectingServer> {
  const server = http.createServer(function reflect(req, res) {
    const url = new URL(req.url ?? '/', 'http://reflecting.invalid');
    const headers = { 'content-type': 'text/html; charset=utf-8', 'set-cookie': `${REFLECTED_COOKIE}; Path=/` };
    if (url.pathname === '/search') {
      res.writeHead(200, headers).end(`<form action="/search"><input name="q" value="${url.searchParams.get('q') ?? ''}"></form>`);
      return;
    }
    let path = url.pathname;
    try {
      path = decodeURIComponent(path);
    } catch {
      // Malformed percent-encoding: echo it as it came.
    }
    res.writeHead(404, headers).end(`Not Found: ${path}`);
  });
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}`, close: closer(server) };
}

export interface Exchange {
  method: string;
  url: string;
  /** As the server received them: what the browser really sent (Cookie, Sec-Fetch-Site, Origin). */
  headers: http.IncomingHttpHeaders;
  /** Set when the answer has been sent. */
  status?: number;
}

export interface ServerWatch {
  /** Every exchange of the watched server since watchServer(), in arrival order. */
  readonly exchanges: readonly Exchange[];
  stop(): void;
}

/**
 * Records what a node:http server (a Fastify app's app.server) receives and
 * answers, through Node's http diagnostics channels: the request as it
 * arrived, even when the browser then blocks the answer from the page (CORP,
 * no-cors), and the status the server gave.
 */
export function watchServer(server: http.Server): ServerWatch {
  const exchanges: Exchange[] = [];
  const open = new WeakMap<http.IncomingMessage, Exchange>();
  const onStart = (message: unknown) => {
    const { request, server: from } = message as { request: http.IncomingMessage; server: http.Server };
    if (from !== server) return;
    const exchange: Exchange = { method: request.method ?? '', url: request.url ?? '', headers: request.headers };
    open.set(request, exchange);
    exchanges.push(exchange);
  };
  const onFinish = (message: unknown) => {
    const { request, response } = message as { request: http.IncomingMessage; response: http.ServerResponse };
    const exchange = open.get(request);
    if (exchange !== undefined) exchange.status = response.statusCode;
  };
  diagnostics.subscribe('http.server.request.start', onStart);
  diagnostics.subscribe('http.server.response.finish', onFinish);
  return {
    exchanges,
    stop() {
      diagnostics.unsubscribe('http.server.request.start', onStart);
      diagnostics.unsubscribe('http.server.response.finish', onFinish);
    },
  };
}

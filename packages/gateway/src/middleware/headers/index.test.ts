import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { Value } from '@sinclair/typebox/value';
import { headersMiddleware } from './index.ts';
import type { Dispatch, ProxyRequest, ResponseController, ResponseHandler } from '../types.ts';
import type { RouteConfig } from '../../config/load.ts';
import { parseConfig } from '../../config/load.ts';
import { createLogger } from '../../observability/log.ts';
import { startUpstream } from '../../../../../test/helpers/upstream.ts';
import { startGateway, configFor } from '../../../../../test/helpers/gateway.ts';

type Options = Parameters<typeof headersMiddleware.create>[0];

function options(raw: unknown): Options {
  return Value.Default(headersMiddleware.options, structuredClone(raw)) as Options;
}

const route = { index: 0, label: '/', path: '/', host: undefined, upstream: 'app', maxBodyBytes: 0, retryNonIdempotent: false, middleware: [] } satisfies RouteConfig;
const context = { route, logger: createLogger('silent') };

function request(headers: string[]): ProxyRequest {
  return { method: 'GET', target: '/', host: 'h', headers, body: null, upgrade: false, remoteAddress: '127.0.0.1', secure: false, route };
}

const controller: ResponseController = { pause() {}, resume() {}, abort() {}, aborted: false };

function recordingHandler(): ResponseHandler & { started: string[][] } {
  const started: string[][] = [];
  return {
    started,
    onRequestStart() {},
    onResponseStart(_c, _status, headers) {
      started.push(headers);
    },
    onResponseData() {},
    onResponseEnd() {},
    onResponseError() {},
    onUpgrade() {},
  };
}

test('request rules: set replaces every field of that name (any case), remove drops fields', () => {
  let seen: ProxyRequest | undefined;
  const terminal: Dispatch = (req) => (seen = req);
  const dispatch = headersMiddleware.create(options({ request: { set: { 'X-Env': 'prod' }, remove: ['X-Debug'] } }), context)(terminal);
  dispatch(request(['host', 'h', 'x-env', 'dev', 'x-debug', '1', 'x-env', 'test', 'accept', '*/*']), recordingHandler());
  assert.deepEqual(seen!.headers, ['host', 'h', 'accept', '*/*', 'x-env', 'prod']);
});

test('response rules rewrite the headers the client gets; other events pass through', () => {
  const terminal: Dispatch = (_req, handler) => {
    handler.onRequestStart(controller);
    handler.onResponseStart(controller, 200, ['server', 'app/1.0', 'x-powered-by', 'php', 'content-type', 'text/plain'], 'OK');
    handler.onResponseData(controller, Buffer.from('x'));
    handler.onResponseEnd(controller);
  };
  const handler = recordingHandler();
  const ended = mock.fn();
  handler.onResponseEnd = ended;
  const dispatch = headersMiddleware.create(options({ response: { set: { 'X-Frame-Options': 'DENY' }, remove: ['server', 'x-powered-by'] } }), context)(terminal);
  dispatch(request([]), handler);
  assert.deepEqual(handler.started, [['content-type', 'text/plain', 'x-frame-options', 'DENY']]);
  assert.equal(ended.mock.callCount(), 1);
});

test('with no rules the layer adds nothing: the request and handler go through untouched', () => {
  const headers = ['host', 'h'];
  const handler = recordingHandler();
  let got: [ProxyRequest, ResponseHandler] | undefined;
  const dispatch = headersMiddleware.create(options({}), context)((req, h) => (got = [req, h]));
  const req = request(headers);
  dispatch(req, handler);
  assert.equal(got![0].headers, headers);
  assert.equal(got![1], handler);
});

test('the factory returns named functions, so stack traces read well', () => {
  const layer = headersMiddleware.create(options({}), context);
  assert.equal(layer.name, 'headersLayer');
  assert.equal(layer(() => {}).name, 'headersDispatch');
});

test('bad options are refused when the config loads, with key paths', () => {
  const base = `upstreams: { app: { servers: ["http://127.0.0.1:1"] } }\nroutes:\n  - path: /\n    upstream: app\n    middleware:\n`;
  assert.throws(() => parseConfig(`${base}      - headers: { request: { set: { "x a": b } } }\n`), /routes\[0\]\.middleware\[0\]\.headers\.request\.set\["x a"\]/);
  assert.throws(() => parseConfig(`${base}      - headers: { response: { set: { x-a: "\\r\\n" } } }\n`), /headers\.response\.set\.x-a/);
  assert.throws(() => parseConfig(`${base}      - headers: { response: { remove: [Transfer-Encoding] } }\n`), /headers\.response\.remove\[0\].*managed by the gateway itself/);
  assert.throws(() => parseConfig(`${base}      - headers: { requests: {} }\n`), /headers\.requests .*did you mean request\?/);
});

test('end to end: fields are set and removed on the request upstream and on the response to the client', async (t) => {
  const upstream = await startUpstream((req, res) => {
    res.setHeader('x-powered-by', 'express');
    res.setHeader('server', 'app/1.0');
    res.setHeader('x-keep', 'yes');
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(req.headers));
  });
  t.after(() => upstream.close());
  const gw = await startGateway(
    configFor(
      [upstream.url],
      `    middleware:
      - headers:
          request: { set: { X-Env: prod, X-Order: first }, remove: [x-internal-token] }
          response: { set: { X-Frame-Options: DENY, X-Order: outer }, remove: [x-powered-by, Server] }
      - headers:
          request: { set: { x-order: second } }
          response: { set: { x-order: inner } }
`,
    ),
  );
  t.after(() => gw.close());

  for (let i = 0; i < 2; i++) {
    const res = await fetch(`${gw.url}/a`, { headers: { 'x-env': 'dev', 'x-internal-token': 'secret', 'x-other': 'kept' } });
    assert.equal(res.status, 200);
    const seen = (await res.json()) as Record<string, string>;
    assert.equal(seen['x-env'], 'prod', 'set replaces the client value');
    assert.equal(seen['x-internal-token'], undefined, 'removed before it goes upstream');
    assert.equal(seen['x-other'], 'kept');
    assert.equal(seen['x-order'], 'second', 'the first middleware listed sees the request first');
    assert.equal(res.headers.get('x-frame-options'), 'DENY');
    assert.equal(res.headers.get('x-powered-by'), null);
    assert.equal(res.headers.get('server'), null);
    assert.equal(res.headers.get('x-keep'), 'yes');
    assert.equal(res.headers.get('x-order'), 'outer', 'and sees the response last');
  }
});

import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { Type } from '@sinclair/typebox';
import { compose } from './compose.ts';
import { headersMiddleware } from './headers/index.ts';
import type { Dispatch, MiddlewareFactory, ProxyRequest, ResponseHandler } from './types.ts';
import type { RouteConfig } from '../config/load.ts';
import { RampartError } from '../errors.ts';
import { createLogger } from '../observability/log.ts';
import { startUpstream } from '../../../../test/helpers/upstream.ts';
import { startGateway, configFor } from '../../../../test/helpers/gateway.ts';
import { parseConfig } from '../config/load.ts';

const route = { index: 0, label: '/', path: '/', host: undefined, upstream: 'app', maxBodyBytes: 0, retryNonIdempotent: false, middleware: [] } satisfies RouteConfig;
const context = { route, logger: createLogger('silent') };

/** A middleware that appends its tag to a trace on the way in and on the way out. */
function tagging(trace: string[]): MiddlewareFactory<{ tag: string }> {
  return {
    name: 'tag',
    options: Type.Object({ tag: Type.String() }),
    create: ({ tag }) =>
      function tagLayer(next) {
        return function tagDispatch(request, handler) {
          trace.push(`in:${tag}`);
          next(request, { ...handler, onResponseEnd: (c) => (trace.push(`out:${tag}`), handler.onResponseEnd(c)) });
        };
      },
  };
}

const noop: ResponseHandler = { onRequestStart() {}, onResponseStart() {}, onResponseData() {}, onResponseEnd() {}, onResponseError() {}, onUpgrade() {} };
const req = {} as ProxyRequest;

test('the first middleware listed sees the request first and the response last', () => {
  const trace: string[] = [];
  const registry = new Map<string, MiddlewareFactory<never>>([['tag', tagging(trace)]]);
  const terminal: Dispatch = (_r, h) => (trace.push('upstream'), h.onResponseEnd({ pause() {}, resume() {}, abort() {}, aborted: false }));
  const dispatch = compose(
    [
      { name: 'tag', options: { tag: 'a' } },
      { name: 'tag', options: { tag: 'b' } },
    ],
    terminal,
    context,
    registry,
  );
  dispatch(req, noop);
  assert.deepEqual(trace, ['in:a', 'in:b', 'upstream', 'out:b', 'out:a']);
});

test('no middleware: the chain is the terminal dispatch itself', () => {
  const terminal: Dispatch = () => {};
  assert.equal(compose([], terminal, context), terminal);
});

test('a layer that does not return a dispatch function is refused when the chain is built', () => {
  const broken: MiddlewareFactory<never> = { name: 'broken', options: Type.Object({}), create: () => () => 42 as unknown as Dispatch };
  assert.throws(
    () => compose([{ name: 'broken', options: {} }], () => {}, context, new Map([['broken', broken]])),
    (err: unknown) => err instanceof RampartError && err.code === 'RAMPART_ERR_MIDDLEWARE' && /broken did not return a dispatch function/.test(err.message),
  );
  assert.throws(() => compose([{ name: 'nope', options: {} }], () => {}, context), /unknown middleware nope/);
});

test('chains are built when a config is loaded or reloaded, never per request', async (t) => {
  const upstream = await startUpstream((_req, res) => res.end('ok'));
  t.after(() => upstream.close());
  const create = mock.method(headersMiddleware, 'create');
  t.after(() => create.mock.restore());
  const extra = `    middleware:\n      - headers: { response: { set: { x-a: "1" } } }\n  - path: /b\n    upstream: app\n    middleware:\n      - headers:\n`;
  const gw = await startGateway(configFor([upstream.url], extra));
  t.after(() => gw.close());
  assert.equal(create.mock.callCount(), 2, 'one chain per route at start');
  for (const path of ['/', '/b', '/b/c']) assert.equal((await fetch(gw.url + path)).status, 200);
  assert.equal(create.mock.callCount(), 2, 'requests reuse the chains');
  gw.gateway.reload(parseConfig(configFor([upstream.url], extra), 'test.yaml'));
  assert.equal(create.mock.callCount(), 4, 'a reload builds new chains');
  assert.equal((await fetch(gw.url)).headers.get('x-a'), '1');
});

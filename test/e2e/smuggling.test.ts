// Request smuggling: the gateway and the server behind it must never disagree
// on where a request ends. Every request here either is refused by the
// gateway (an error status, the connection closed, nothing forwarded) or
// reaches the upstream as one well-framed request whose body is exactly what
// the gateway read, as checked by the upstream's own strict framer.
//
// The corpus is defparam/smuggler's Transfer-Encoding gadgets
// (../shared/corpora/http/smuggler), each sent with the CL.TE and TE.CL
// probes at their attack and control Content-Length, as smuggler sends them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { startGateway, configFor, type TestGateway } from '../helpers/gateway.ts';
import { exchange, startFramingUpstream, type ClientExchange, type ForwardedRequest, type FramingUpstream } from '../helpers/framing-upstream.ts';
import { waitFor } from '../helpers/wait.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CORPUS = path.resolve(ROOT, '../shared/corpora/http/smuggler/smuggler-mutations.json');
const HOST = 'smuggle.test';
/** Requests in flight at once while replaying the corpus. */
const PARALLEL = 48;

interface Mutation {
  readonly name: string;
  readonly gadget_utf8_hex: string;
}

interface Probe {
  readonly body: string;
  readonly attack_content_length: number;
  readonly control_content_length: number;
}

interface SmugglerCorpus {
  readonly request_template: string;
  readonly probes: Record<string, Probe>;
  readonly mutations: Record<string, Mutation[]>;
}

let upstream: FramingUpstream;
let gw: TestGateway;

before(async () => {
  upstream = await startFramingUpstream();
  gw = await startGateway(configFor([upstream.url]));
});
after(async () => {
  await gw.close();
  await upstream.close();
});

/** Decodes a chunked body the way a strict recipient would; null if it is not one. */
function dechunk(body: Buffer): Buffer | null {
  const parts: Buffer[] = [];
  let pos = 0;
  for (;;) {
    const eol = body.indexOf('\r\n', pos, 'latin1');
    if (eol === -1) return null;
    const size = /^([0-9a-fA-F]+)(?:;[^\r\n]*)?$/.exec(body.toString('latin1', pos, eol));
    if (!size) return null;
    const n = parseInt(size[1]!, 16);
    pos = eol + 2;
    if (n === 0) break;
    parts.push(body.subarray(pos, pos + n));
    pos += n + 2;
  }
  // Trailer lines up to the empty one.
  for (;;) {
    const eol = body.indexOf('\r\n', pos, 'latin1');
    if (eol === -1) return null;
    if (eol === pos) return Buffer.concat(parts);
    pos = eol + 2;
  }
}

/** A forwarded field a lenient server could take for framing: `Transfer_Encoding`, `transfer encoding`, … */
function framingLookalike(request: ForwardedRequest): string | null {
  for (const [name] of request.headers) {
    const folded = name.replace(/[^a-z]/g, '');
    if ((folded === 'transferencoding' && name !== 'transfer-encoding') || (folded === 'contentlength' && name !== 'content-length')) return name;
  }
  return null;
}

/**
 * What went wrong with one request, or null. `sent` is the body bytes that
 * followed the head; `forwarded` what the upstream framed for this request.
 */
function judge(x: ClientExchange, forwarded: ForwardedRequest[], sentBody: Buffer, declaredLength: number | null, markerSeenUpstream: boolean): string | null {
  const first = x.statuses[0];
  if (first === undefined) return `no answer (closed: ${x.closed})`;
  if (first >= 400) {
    if (!x.closed) return `refused with ${first} but the connection stayed open`;
    if (forwarded.length > 0) return `refused with ${first} after forwarding ${forwarded.length} request(s)`;
    if (markerSeenUpstream) return `refused with ${first} but part of it reached the upstream`;
    return null;
  }
  if (first !== 200) return `unexpected status ${first}`;
  if (forwarded.length !== 1) return `accepted, but the upstream framed ${forwarded.length} requests for it`;
  const req = forwarded[0]!;
  const lookalike = framingLookalike(req);
  if (lookalike !== null) return `forwarded a framing look-alike field ${JSON.stringify(lookalike)}`;
  let expected: Buffer | null;
  if (req.framing === 'length') {
    // The gateway read Content-Length: the body is its first N bytes.
    if (declaredLength === null) return 'forwarded with Content-Length though none was sent';
    expected = sentBody.subarray(0, declaredLength);
  } else if (req.framing === 'chunked') {
    expected = dechunk(sentBody);
    if (expected === null) return 'forwarded as chunked though the body sent is not chunked';
  } else {
    expected = Buffer.alloc(0);
  }
  if (!req.body.equals(expected)) return `upstream body ${JSON.stringify(req.body.toString('latin1'))}, gateway should have read ${JSON.stringify(expected.toString('latin1'))}`;
  // What the gateway did not read as this body is, for it, the next request:
  // never a valid one here, so any further answer is an error.
  const later = x.statuses.slice(1).filter((s) => s < 400);
  if (later.length > 0) return `the rest of the bytes were answered ${JSON.stringify(later)}`;
  return null;
}

/** Upstream connections never keep half a request: they are closed, or between requests. */
async function noHalfRequestKept(): Promise<void> {
  await waitFor(() => upstream.connections.every((c) => c.framed.rest.length === 0 || c.closed), {
    what: 'every upstream connection holding a partial request to be closed',
    timeoutMs: 5000,
  });
  assert.deepEqual(upstream.errors(), [], 'everything the gateway forwarded is well framed');
}

function markersUpstream(pattern: RegExp): Set<string> {
  const seen = new Set<string>();
  for (const c of upstream.connections) for (const m of c.data.toString('latin1').matchAll(pattern)) seen.add(m[1]!);
  return seen;
}

const corpus: SmugglerCorpus | null = existsSync(CORPUS) ? (JSON.parse(readFileSync(CORPUS, 'utf8')) as SmugglerCorpus) : null;

if (corpus === null) {
  test('smuggler corpus', { skip: `corpus not found at ${CORPUS}` }, () => {});
} else {
  const { request_template: template, probes, mutations } = corpus;
  // One gadget per distinct byte string: the sets repeat some.
  const gadgets = new Map<string, string>();
  for (const [set, list] of Object.entries(mutations)) for (const m of list) if (!gadgets.has(m.gadget_utf8_hex)) gadgets.set(m.gadget_utf8_hex, `${set}/${m.name}`);

  const lines = template.replaceAll('\\r\\n', '\r\n');
  const [beforeGadget, afterGadget] = lines.split('<gadget>') as [string, string];
  const [headRest] = afterGadget.split('<body>') as [string];

  for (const [probeName, probe] of Object.entries(probes)) {
    for (const kind of ['attack', 'control'] as const) {
      const length = kind === 'attack' ? probe.attack_content_length : probe.control_content_length;
      test(`smuggler gadgets × ${probeName} probe, ${kind} Content-Length ${length}`, async (t) => {
        const cases = [...gadgets].map(([hex, name], i) => ({ id: `${probeName}-${kind}-${i}`, name, hex }));
        const body = Buffer.from(probe.body, 'latin1');
        const build = (id: string, hex: string): Buffer =>
          Buffer.concat([
            Buffer.from(beforeGadget.replace('__METHOD__', 'POST').replace('__ENDPOINT__', '/').replace('__RANDOM__', id), 'latin1'),
            Buffer.from(hex, 'hex'),
            Buffer.from(headRest.replace('__HOST__', HOST).replace('__REPLACE_CL__', String(length)), 'latin1'),
            body,
          ]);
        const results = new Map<string, ClientExchange>();
        for (let i = 0; i < cases.length; i += PARALLEL) {
          await Promise.all(
            cases.slice(i, i + PARALLEL).map(async (c) => {
              results.set(c.id, await exchange(gw.port, build(c.id, c.hex), { until: (x) => x.statuses.length > 0 }));
            }),
          );
        }
        await noHalfRequestKept();

        const mine = new RegExp(`\\?cb=(${probeName}-${kind}-\\d+) HTTP`, 'g');
        const seen = markersUpstream(mine);
        const byId = new Map<string, ForwardedRequest[]>();
        for (const r of upstream.log) {
          const id = /^\/\?cb=(.+)$/.exec(r.target)?.[1];
          if (id !== undefined && id.startsWith(`${probeName}-${kind}-`)) byId.set(id, [...(byId.get(id) ?? []), r]);
        }
        const failures: string[] = [];
        let refused = 0;
        for (const c of cases) {
          const x = results.get(c.id)!;
          const problem = judge(x, byId.get(c.id) ?? [], body, length, seen.has(c.id));
          if (problem !== null) failures.push(`${c.name} ${JSON.stringify(Buffer.from(c.hex, 'hex').toString('latin1'))}: ${problem}`);
          else if (x.statuses[0]! >= 400) refused++;
        }
        t.diagnostic(`${cases.length} gadgets: ${refused} refused, ${cases.length - refused - failures.length} forwarded as one well-framed request, ${failures.length} failures`);
        assert.deepEqual(failures, []);
      });
    }
  }
}

describe('classic smuggling requests', () => {
  /** Sends `head` + CRLFCRLF + `body` with `/classic/<name>` as target and judges it. */
  async function attempt(name: string, head: string[], body: string, declaredLength: number | null): Promise<{ x: ClientExchange; forwarded: ForwardedRequest[] }> {
    const target = `/classic/${name}`;
    const bytes = Buffer.from(`${head[0]!.replace('<target>', target)}\r\n${head.slice(1).join('\r\n')}\r\n\r\n${body}`, 'latin1');
    const x = await exchange(gw.port, bytes, { until: (r) => r.statuses.length > 0 });
    await noHalfRequestKept();
    const forwarded = upstream.log.filter((r) => r.target === target);
    const seen = markersUpstream(new RegExp(`(${target.replaceAll('/', '\\/')}) HTTP`, 'g')).size > 0;
    const problem = judge(x, forwarded, Buffer.from(body, 'latin1'), declaredLength, seen);
    assert.equal(problem, null, problem ?? '');
    return { x, forwarded };
  }

  async function refused(name: string, head: string[], body: string, status = 400): Promise<void> {
    const { x } = await attempt(name, head, body, null);
    assert.equal(x.statuses[0], status, `${name}: statuses ${JSON.stringify(x.statuses)}`);
  }

  test('CL.CL: two different Content-Length fields', () => refused('cl-cl', ['POST <target> HTTP/1.1', 'Host: a', 'Content-Length: 4', 'Content-Length: 11'], '1\r\nZ\r\n0\r\n\r\n'));

  test('CL.CL: two equal Content-Length fields', () => refused('cl-cl-equal', ['POST <target> HTTP/1.1', 'Host: a', 'Content-Length: 5', 'Content-Length: 5'], 'hello'));

  test('CL.CL: a Content-Length list', () => refused('cl-list', ['POST <target> HTTP/1.1', 'Host: a', 'Content-Length: 5, 5'], 'hello'));

  test('CL.TE: Content-Length and chunked, the smuggled request in the body', () =>
    refused('cl-te', ['POST <target> HTTP/1.1', 'Host: a', 'Content-Length: 13', 'Transfer-Encoding: chunked'], '0\r\n\r\nSMUGGLED'));

  test('TE.CL: chunked and Content-Length, the smuggled request in a chunk', () =>
    refused('te-cl', ['POST <target> HTTP/1.1', 'Host: a', 'Transfer-Encoding: chunked', 'Content-Length: 3'], '8\r\nSMUGGLED\r\n0\r\n\r\n'));

  test('TE.TE: a second, obfuscated Transfer-Encoding', async () => {
    await refused('te-te-x', ['POST <target> HTTP/1.1', 'Host: a', 'Transfer-Encoding: chunked', 'Transfer-Encoding: x'], '0\r\n\r\n');
    await refused('te-te-cow', ['POST <target> HTTP/1.1', 'Host: a', 'Transfer-Encoding: chunked', 'Transfer-encoding: cow'], '0\r\n\r\n');
    // `identity` is a token before chunked: an unimplemented coding, 501.
    await refused('te-te-identity', ['POST <target> HTTP/1.1', 'Host: a', 'Transfer-Encoding: identity', 'Transfer-Encoding: chunked', 'Content-Length: 5'], '0\r\n\r\n', 501);
    await refused('te-te-space', ['POST <target> HTTP/1.1', 'Host: a', 'Transfer-Encoding : chunked', 'Content-Length: 5'], '0\r\n\r\n');
    await refused('te-te-underscore', ['POST <target> HTTP/1.1', 'Host: a', 'Transfer_Encoding: chunked', 'Content-Length: 5'], '0\r\n\r\n');
    await refused('te-te-vtab', ['POST <target> HTTP/1.1', 'Host: a', 'Transfer-Encoding:\x0bchunked', 'Content-Length: 5'], '0\r\n\r\n');
    await refused('te-te-fold', ['POST <target> HTTP/1.1', 'Host: a', 'X: y', ' Transfer-Encoding: chunked', 'Content-Length: 5'], '0\r\n\r\n');
    await refused('te-te-xchunked', ['POST <target> HTTP/1.1', 'Host: a', 'Transfer-Encoding: xchunked', 'Content-Length: 5'], '0\r\n\r\n');
    await refused('te-te-quoted', ['POST <target> HTTP/1.1', 'Host: a', 'Transfer-Encoding: "chunked"', 'Content-Length: 5'], '0\r\n\r\n');
    await refused('te-te-bare-lf', ['POST <target> HTTP/1.1', 'Host: a', 'X: y\nTransfer-Encoding: chunked', 'Content-Length: 5'], '0\r\n\r\n');
  });

  test('a coding before chunked the gateway does not implement gets 501', () =>
    refused('te-gzip-chunked', ['POST <target> HTTP/1.1', 'Host: a', 'Transfer-Encoding: gzip, chunked'], '0\r\n\r\n', 501));

  test('chunk size with leading spaces', () => refused('chunk-leading-space', ['POST <target> HTTP/1.1', 'Host: a', 'Transfer-Encoding: chunked'], '   5\r\nhello\r\n0\r\n\r\n'));

  test('chunk extension containing a bare CR', () => refused('chunk-ext-cr', ['POST <target> HTTP/1.1', 'Host: a', 'Transfer-Encoding: chunked'], '5;a\rb\r\nhello\r\n0\r\n\r\n'));

  test('chunk extension containing a bare LF', () => refused('chunk-ext-lf', ['POST <target> HTTP/1.1', 'Host: a', 'Transfer-Encoding: chunked'], '5;a\nGET /x HTTP/1.1\r\nhello\r\n0\r\n\r\n'));

  test('`0\\n\\n` (bare LF) as the last chunk', () => refused('chunk-bare-lf-end', ['POST <target> HTTP/1.1', 'Host: a', 'Transfer-Encoding: chunked'], '0\n\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n'));

  test('chunk size overflow', () => refused('chunk-overflow', ['POST <target> HTTP/1.1', 'Host: a', 'Transfer-Encoding: chunked'], '10000000000000005\r\nhello\r\n0\r\n\r\n'));

  test('HTTP/1.0 with Transfer-Encoding', () => refused('http10-te', ['POST <target> HTTP/1.0', 'Host: a', 'Transfer-Encoding: chunked'], '5\r\nhello\r\n0\r\n\r\n'));

  test('a valid chunked body with extensions and trailers is re-chunked, its data intact', async () => {
    const { x, forwarded } = await attempt(
      'chunked-ok',
      ['POST <target> HTTP/1.1', 'Host: a', 'Transfer-Encoding:\tchunked'],
      '5;a=b\r\nhello\r\n6;c="d;e"\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n',
      null,
    );
    assert.equal(x.statuses[0], 200);
    assert.equal(forwarded.length, 1);
    assert.equal(forwarded[0]!.framing, 'chunked');
    assert.equal(forwarded[0]!.body.toString(), 'hello world');
  });

  test('a pipelined request after a Content-Length body is a separate request', async () => {
    const bytes = Buffer.from('POST /classic/pipe-1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhelloGET /classic/pipe-2 HTTP/1.1\r\nHost: a\r\n\r\n', 'latin1');
    const x = await exchange(gw.port, bytes, { until: (r) => r.statuses.length >= 2 });
    assert.deepEqual(x.statuses, [200, 200]);
    const forwarded = upstream.log.filter((r) => r.target.startsWith('/classic/pipe-'));
    assert.deepEqual(
      forwarded.map((r) => [r.target, r.framing, r.body.toString()]),
      [
        ['/classic/pipe-1', 'length', 'hello'],
        ['/classic/pipe-2', 'none', ''],
      ],
    );
  });
});

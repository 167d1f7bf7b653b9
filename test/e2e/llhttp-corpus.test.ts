// Replays llhttp's request test corpus (nodejs/llhttp test/request/*.md, as
// exported to ../shared/corpora) through the gateway, in front of an upstream
// that frames what it receives with its own strict reader.
//
// Every case with type "request" that llhttp refuses must be refused by the
// gateway too: an error status for the failing message, then a closed
// connection, and never a complete copy of that message upstream. Rules:
//
// - Error status: 400 for every llhttp error class in this corpus (none of
//   them is about size, versions or codings the gateway merely does not
//   implement, which would get 431/505/501). Incomplete input may end with
//   any 4xx/5xx or none (see below).
// - Valid leading messages (`messages_completed` ≥ 1) may be answered 200
//   first; exactly those reach the upstream.
// - Data after `Connection: close` (llhttp: "Data after `Connection: close`"):
//   RFC 9112 §9.6 has the server stop reading after the response that closes
//   the connection, so the gateway answers the first message with
//   `connection: close` and discards the rest unanswered and unforwarded.
// - Incomplete input: a message whose head is not terminated (no CRLFCRLF)
//   and holds no bare LF, the only two things that let a head-at-once parser
//   decide. The gateway cannot know more is not coming, so the test
//   half-closes the connection; the gateway must then close without having
//   forwarded a complete request.
//
// Deliberately accepted: llhttp refuses methods outside its fixed list
// (`MKCOLA`, `ANNOUNCE` on HTTP/1.0); RFC 9110 §9.1 makes any token a method
// and the gateway forwards extension methods unchanged, so for those cases
// the test asserts the request reaches the upstream once, as sent.
//
// Cases of other types (ok, lenient-*, finish, upgrade pauses) describe what
// llhttp does in other modes: the gateway must only answer or close, and stay
// up (a request on a new connection still gets 200).
//
// Each case runs twice: as stored, and as llhttp's md-test harness fed it.
// The export dropped the final empty line of each code block (llhttp counts
// a completed message for `PUT /url HTTP/1.1\r\nConnection: keep-alive\r\n`,
// which has no end of head), so the second variant appends CRLF; it also adds
// a Host field to an HTTP/1.1 first message that lacks one, so that the case
// is refused for its own reason rather than for the missing Host.
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { startGateway, configFor, type TestGateway } from '../helpers/gateway.ts';
import { exchange, startFramingUpstream, type ClientExchange, type FramingUpstream } from '../helpers/framing-upstream.ts';
import { waitFor } from '../helpers/wait.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CORPUS = path.resolve(ROOT, '../shared/corpora/http/llhttp/llhttp-request-cases.jsonl');
const SENTINEL = '/__llhttp_corpus_sentinel';

interface CorpusCase {
  readonly file: string;
  readonly title: string;
  readonly type: string;
  readonly raw_utf8_b64: string;
  readonly llhttp_result: string;
  readonly error: string | null;
  readonly messages_completed: number;
}

type Variant = 'as stored' | 'as llhttp read it';

/** llhttp error cases the gateway accepts on purpose, by title. */
const EXTENSION_METHOD_CASES = new Set(['HTTP protocol and ANNOUNCE method', 'Invalid method']);

const cases: CorpusCase[] | null = existsSync(CORPUS)
  ? readFileSync(CORPUS, 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as CorpusCase)
  : null;

function bytesFor(c: CorpusCase, variant: Variant): Buffer {
  const raw = Buffer.from(c.raw_utf8_b64, 'base64');
  if (variant === 'as stored') return raw;
  let text = raw.toString('latin1') + '\r\n';
  if (!/\r\nhost:/i.test(text)) text = text.replace(/^((?:\r\n)*[^\r\n]* HTTP\/1\.1\r\n)/, '$1Host: llhttp.test\r\n');
  return Buffer.from(text, 'latin1');
}

/** A head-at-once parser can decide on these bytes: a head ends, or a bare LF shows. */
function decidable(bytes: Buffer): boolean {
  let start = 0;
  while (bytes[start] === 13 && bytes[start + 1] === 10) start += 2;
  if (bytes.indexOf('\r\n\r\n', start, 'latin1') !== -1) return true;
  for (let i = bytes.indexOf(10, start); i !== -1; i = bytes.indexOf(10, i + 1)) if (i === 0 || bytes[i - 1] !== 13) return true;
  return false;
}

if (cases === null) {
  test('llhttp request corpus', { skip: `corpus not found at ${CORPUS}` }, () => {});
} else {
  const corpus = cases;
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

  /** The gateway is up and still proxies: a fresh connection gets 200 from the upstream. */
  async function sentinel(): Promise<void> {
    const before = upstream.log.length;
    const x = await exchange(gw.port, Buffer.from(`GET ${SENTINEL} HTTP/1.1\r\nHost: sentinel\r\nConnection: close\r\n\r\n`));
    assert.deepEqual(x.statuses, [200], 'a request on a new connection after the case still gets 200');
    assert.ok(upstream.log.slice(before).some((r) => r.target === SENTINEL), 'the follow-up request reached the upstream');
  }

  /** No upstream connection is left holding part of a request (it would be reused mid-message). */
  async function noHalfRequestKept(): Promise<void> {
    await waitFor(() => upstream.connections.every((c) => c.framed.rest.length === 0 || c.closed), {
      what: 'every upstream connection holding a partial request to be closed',
      timeoutMs: 3000,
    });
    assert.deepEqual(upstream.errors(), [], 'everything the gateway forwarded is well framed');
  }

  function describeExchange(x: ClientExchange): string {
    return `statuses ${JSON.stringify(x.statuses)}, bodies ${JSON.stringify(x.bodies)}, closed ${x.closed}`;
  }

  for (const variant of ['as stored', 'as llhttp read it'] as const) {
    test(`llhttp request corpus, ${variant}`, async (t: TestContext) => {
      const tally = { refused: 0, incomplete: 0, afterClose: 0, accepted: 0, survived: 0, answered: 0 };
      for (const c of corpus) {
        const bytes = bytesFor(c, variant);
        const isError = c.type === 'request' && c.llhttp_result === 'error';
        await t.test(`${isError ? 'error' : c.type}: ${c.title} (${c.file})`, async () => {
          const logBefore = upstream.log.length;
          if (!isError) {
            // The client ends at once: a half-close is an abort for the gateway
            // (as for nginx and node:http), so answers are not awaited here.
            const x = await exchange(gw.port, bytes, { halfClose: true });
            assert.ok(x.closed, `the gateway closes once the client is done (${describeExchange(x)})`);
            assert.ok(x.statuses.every((s) => s >= 200 && s <= 599), describeExchange(x));
            tally.survived++;
            if (x.statuses.length > 0) tally.answered++;
            await sentinel();
            await noHalfRequestKept();
            return;
          }

          const complete = decidable(bytes);
          if (complete && EXTENSION_METHOD_CASES.has(c.title)) {
            const x = await exchange(gw.port, bytes, { until: (r) => r.statuses.length > 0 });
            await sentinel();
            const forwarded = upstream.log.slice(logBefore).filter((r) => r.target !== SENTINEL);
            const method = bytes.toString('latin1').split(' ')[0];
            assert.deepEqual(x.statuses, [200], describeExchange(x));
            assert.deepEqual(
              forwarded.map((r) => r.method),
              [method],
              'the extension method reaches the upstream once, unchanged',
            );
            tally.accepted++;
            return;
          }
          const x = complete ? await exchange(gw.port, bytes) : await exchange(gw.port, bytes, { halfClose: true });
          await sentinel();
          await noHalfRequestKept();
          const forwarded = upstream.log.slice(logBefore).filter((r) => r.target !== SENTINEL);
          const what = `${JSON.stringify(bytes.toString('latin1'))}: ${describeExchange(x)}`;
          assert.ok(x.closed, `the connection is closed: ${what}`);

          let leading = 0;
          while (x.statuses[leading] === 200) leading++;
          assert.ok(leading <= c.messages_completed, `at most the ${c.messages_completed} valid leading message(s) are answered 200: ${what}`);
          assert.equal(forwarded.length, leading, `only the valid leading messages reach the upstream: ${what}`);
          const rest = x.statuses.slice(leading);

          if (!complete) {
            assert.ok(rest.every((s) => s >= 400), `incomplete input gets no answer or an error: ${what}`);
            tally.incomplete++;
            return;
          }
          if (rest.length === 0) {
            assert.ok(leading >= 1 && x.heads[leading - 1]!.includes('\r\nconnection: close'), `without an error, the last answer must announce the close: ${what}`);
            tally.afterClose++;
            return;
          }
          assert.deepEqual(rest, [400], `the failing message gets exactly one 400: ${what}`);
          if (variant === 'as llhttp read it') assert.doesNotMatch(x.bodies.at(-1)!, /missing Host/, 'refused for its own reason');
          tally.refused++;
        });
      }
      t.diagnostic(
        `${variant}: ${tally.refused + tally.incomplete + tally.afterClose + tally.accepted} error cases: ${tally.refused} refused with 400, ` +
          `${tally.incomplete} incomplete (closed, nothing forwarded), ${tally.afterClose} data after close discarded, ` +
          `${tally.accepted} extension methods forwarded; ${tally.survived} other cases survived (${tally.answered} answered before the close)`,
      );
      assert.equal(tally.refused + tally.incomplete + tally.afterClose + tally.accepted + tally.survived, corpus.length);
    });
  }
}

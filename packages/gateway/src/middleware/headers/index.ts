// Adds, replaces or removes header fields on the way up and on the way down
// (nginx's proxy_set_header / add_header, Traefik's headers middleware).
import { Type, type Static } from '@sinclair/typebox';
import type { HeaderList, MiddlewareFactory, MiddlewareProblem, ResponseHandler } from '../types.ts';

const FIELD_NAME = '^[!#$%&\'*+.^_`|~0-9A-Za-z-]+$';
// Values go on the wire as latin1: no CR, LF or other control characters.
const FIELD_VALUE = '^[\\t\\x20-\\x7e\\x80-\\xff]*$';

/**
 * Fields that frame the message or belong to one hop (RFC 9110 §7.6.1,
 * RFC 9112 §6). The gateway writes them itself; a rule that set or removed
 * one would make the upstream or the client read the byte stream differently
 * from the gateway, the root of request smuggling, so such rules are refused
 * when the config loads.
 */
const RESERVED = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'te', 'trailer', 'upgrade', 'proxy-connection']);

const Rules = (direction: string) =>
  Type.Object(
    {
      set: Type.Record(Type.String({ pattern: FIELD_NAME }), Type.String({ pattern: FIELD_VALUE }), {
        description: `Fields to set on the ${direction}, replacing any of the same name (names are case-insensitive).`,
        default: {},
        // A name outside FIELD_NAME would otherwise pass unchecked.
        additionalProperties: false,
      }),
      remove: Type.Array(Type.String({ pattern: FIELD_NAME }), { description: `Fields to remove from the ${direction}.`, default: [] }),
    },
    { additionalProperties: false, default: {}, description: `Rules for the ${direction}.` },
  );

const Options = Type.Object(
  {
    request: Rules('request sent upstream'),
    response: Rules('response sent to the client'),
  },
  {
    additionalProperties: false,
    description: `Sets or removes header fields. Framing and hop-by-hop fields (${[...RESERVED].join(', ')}) are the gateway's and cannot be named.`,
  },
);
type Options = Static<typeof Options>;
type Rules = Options['request'];

function rewrite(headers: HeaderList, drop: ReadonlySet<string>, set: readonly [string, string][]): HeaderList {
  const out: HeaderList = [];
  for (let i = 0; i < headers.length; i += 2) {
    if (!drop.has(headers[i]!)) out.push(headers[i]!, headers[i + 1]!);
  }
  for (const [name, value] of set) out.push(name, value);
  return out;
}

/** Rules in the shape the hot path wants, lower-cased once at build time. */
function compile(rules: Rules): { drop: Set<string>; set: [string, string][]; empty: boolean } {
  const set = Object.entries(rules.set).map(([n, v]): [string, string] => [n.toLowerCase(), v]);
  const drop = new Set([...rules.remove.map((n) => n.toLowerCase()), ...set.map(([n]) => n)]);
  return { drop, set, empty: drop.size === 0 };
}

export const headersMiddleware: MiddlewareFactory<Options> = {
  name: 'headers',
  options: Options,
  validate(options) {
    const problems: MiddlewareProblem[] = [];
    for (const side of ['request', 'response'] as const) {
      for (const name of Object.keys(options[side].set)) {
        if (RESERVED.has(name.toLowerCase())) problems.push({ path: [side, 'set', name], message: `${name} is set by the gateway itself and cannot be changed here` });
      }
      options[side].remove.forEach((name, i) => {
        if (RESERVED.has(name.toLowerCase())) problems.push({ path: [side, 'remove', i], message: `${name} is managed by the gateway itself and cannot be removed here` });
      });
    }
    return problems;
  },
  create(options) {
    const request = compile(options.request);
    const response = compile(options.response);
    return function headersLayer(next) {
      return function headersDispatch(req, handler) {
        if (!request.empty) req.headers = rewrite(req.headers, request.drop, request.set);
        if (response.empty) {
          next(req, handler);
          return;
        }
        const wrapped: ResponseHandler = {
          onRequestStart: (c) => handler.onRequestStart(c),
          onResponseStart: (c, status, headers, reason) => handler.onResponseStart(c, status, rewrite(headers, response.drop, response.set), reason),
          onResponseData: (c, chunk) => handler.onResponseData(c, chunk),
          onResponseEnd: (c) => handler.onResponseEnd(c),
          onResponseError: (c, err) => handler.onResponseError(c, err),
          onUpgrade: (c, status, headers, socket, head) => handler.onUpgrade(c, status, headers, socket, head),
        };
        next(req, wrapped);
      };
    };
  },
};

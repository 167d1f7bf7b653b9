// Adds, replaces or removes header fields on the way up and on the way down
// (nginx's proxy_set_header / add_header, Traefik's headers middleware).
import { Type, type Static } from '@sinclair/typebox';
import type { HeaderList, MiddlewareFactory, ResponseHandler } from '../types.ts';

const FIELD_NAME = '^[!#$%&\'*+.^_`|~0-9A-Za-z-]+$';
const FIELD_VALUE = '^[\\t\\x20-\\x7e\\x80-\\xff]*$';

const Rules = Type.Object(
  {
    set: Type.Record(Type.String({ pattern: FIELD_NAME }), Type.String({ pattern: FIELD_VALUE }), {
      description: 'Fields to set, replacing any of the same name.',
      default: {},
    }),
    remove: Type.Array(Type.String({ pattern: FIELD_NAME }), { description: 'Fields to remove.', default: [] }),
  },
  { additionalProperties: false, default: {} },
);

const Options = Type.Object(
  {
    request: Rules,
    response: Rules,
  },
  { additionalProperties: false },
);
type Options = Static<typeof Options>;

function rewrite(headers: HeaderList, rules: Options['request']): HeaderList {
  const drop = new Set([...rules.remove, ...Object.keys(rules.set)].map((n) => n.toLowerCase()));
  const out: HeaderList = [];
  for (let i = 0; i < headers.length; i += 2) {
    if (!drop.has(headers[i]!)) out.push(headers[i]!, headers[i + 1]!);
  }
  for (const [name, value] of Object.entries(rules.set)) out.push(name.toLowerCase(), value);
  return out;
}

export const headersMiddleware: MiddlewareFactory<Options> = {
  name: 'headers',
  options: Options,
  create(options) {
    const touchesRequest = options.request.remove.length > 0 || Object.keys(options.request.set).length > 0;
    return function headersLayer(next) {
      return function headersDispatch(request, handler) {
        if (touchesRequest) request.headers = rewrite(request.headers, options.request);
        const wrapped: ResponseHandler = {
          onRequestStart: (c) => handler.onRequestStart(c),
          onResponseStart: (c, status, headers, reason) => handler.onResponseStart(c, status, rewrite(headers, options.response), reason),
          onResponseData: (c, chunk) => handler.onResponseData(c, chunk),
          onResponseEnd: (c) => handler.onResponseEnd(c),
          onResponseError: (c, err) => handler.onResponseError(c, err),
          onUpgrade: (c, status, headers, socket, head) => handler.onUpgrade(c, status, headers, socket, head),
        };
        next(request, wrapped);
      };
    };
  },
};

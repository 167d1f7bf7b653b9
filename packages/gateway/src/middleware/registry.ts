import type { MiddlewareFactory } from './types.ts';
import { headersMiddleware } from './headers/index.ts';

/** Every middleware a route can name in its `middleware:` list. */
export const middlewareRegistry: ReadonlyMap<string, MiddlewareFactory<never>> = new Map<string, MiddlewareFactory<never>>([
  [headersMiddleware.name, headersMiddleware],
]);

import type { Dispatch, MiddlewareContext, MiddlewareFactory, MiddlewareSpec } from './types.ts';
import { middlewareRegistry } from './registry.ts';
import { RampartError } from '../errors.ts';

/**
 * Builds a route's dispatch chain once, when the config loads: the first
 * middleware listed sees the request first. A layer that does not return a
 * function is refused here, not on the first request (undici's compose()).
 */
export function compose(
  specs: readonly MiddlewareSpec[],
  terminal: Dispatch,
  context: MiddlewareContext,
  registry: ReadonlyMap<string, MiddlewareFactory<never>> = middlewareRegistry,
): Dispatch {
  let dispatch = terminal;
  for (let i = specs.length - 1; i >= 0; i--) {
    const spec = specs[i]!;
    const factory = registry.get(spec.name);
    if (!factory) throw new RampartError('RAMPART_ERR_MIDDLEWARE', 500, `unknown middleware ${spec.name}`);
    const layer: unknown = (factory as MiddlewareFactory<unknown>).create(spec.options, context)(dispatch);
    if (typeof layer !== 'function') {
      throw new RampartError('RAMPART_ERR_MIDDLEWARE', 500, `middleware ${spec.name} did not return a dispatch function`);
    }
    dispatch = layer as Dispatch;
  }
  return dispatch;
}

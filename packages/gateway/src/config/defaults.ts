// TypeBox's Value.Default does not descend into Record values (each upstream),
// so defaults are filled by this small walker over the same schema instead.
import type { TSchema } from '@sinclair/typebox';

type Json = unknown;

export function applyDefaults(schema: TSchema, value: Json): Json {
  if (value === undefined && schema.default !== undefined) value = structuredClone(schema.default as Json);
  if (value === null || typeof value !== 'object') return value;
  // A union (`false | { … }`, `string | { url, weight }`): an object value
  // takes the defaults of the union's object branch.
  const anyOf = schema.anyOf as TSchema[] | undefined;
  if (anyOf !== undefined && !Array.isArray(value)) {
    const branch = anyOf.find((b) => b.type === 'object' && b.properties !== undefined);
    return branch === undefined ? value : applyDefaults(branch, value);
  }
  if (Array.isArray(value)) {
    const items = schema.items as TSchema | undefined;
    return items ? value.map((v: Json) => applyDefaults(items, v)) : value;
  }
  const record = value as Record<string, Json>;
  const properties = schema.properties as Record<string, TSchema> | undefined;
  if (properties) {
    for (const [key, sub] of Object.entries(properties)) {
      const filled = applyDefaults(sub, record[key]);
      if (filled !== undefined) record[key] = filled;
    }
  }
  const patterns = schema.patternProperties as Record<string, TSchema> | undefined;
  if (patterns) {
    const sub = Object.values(patterns)[0];
    if (sub) for (const key of Object.keys(record)) record[key] = applyDefaults(sub, record[key]);
  }
  return value;
}

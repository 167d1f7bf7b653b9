// Renders docs/config.md and docs/rampart.schema.json from the config schema
// (packages/gateway/src/config/schema.ts) and the middleware registry, so the
// reference cannot drift from what the loader accepts. Pure functions: the
// command line is scripts/gen-config-docs.ts.
import { ConfigSchema } from '../packages/gateway/src/config/schema.ts';
import { middlewareRegistry } from '../packages/gateway/src/middleware/registry.ts';
import type { TSchema } from '@sinclair/typebox';
import { stringify } from 'yaml';

type Json = Record<string, unknown>;

/** The brief's minimal config (shared/BRIEF.md, "Contracts"): examples and outside checks use it. */
export const MINIMAL_EXAMPLE = `listen: 8080                      # or "127.0.0.1:8080"
admin: 127.0.0.1:9901
upstreams:
  app:
    servers: [ "http://127.0.0.1:3001", "http://127.0.0.1:3002" ]   # existing servers, or:
    # run: { command: "node server.js", instances: 3 }               # instances started by rampart up, PORT in env
    # run: { command: "node server.js", autoscale: { min: 2, max: 8 } }
    balance: round-robin          # random | round-robin | least-connections | weighted-round-robin | p2c | hash | ewma
    sticky: false                 # true: signed affinity cookie
    health: { path: /healthz }    # heartbeat; interval/timeout/rise/fall have defaults
routes:
  - path: /                       # path prefix; host matching optional
    upstream: app
    cache: false                  # true: the edge cache serves this route (docs/cache.md)
`;

/** A plain-JSON copy of a TypeBox schema (TypeBox's own markers are symbols, which JSON drops). */
function plain(schema: TSchema): Json {
  return JSON.parse(JSON.stringify(schema)) as Json;
}

const props = (s: Json) => (s.properties ?? {}) as Record<string, Json>;
const isObject = (s: Json) => s.type === 'object' && s.properties !== undefined;
const recordValue = (s: Json) => (s.patternProperties ? Object.values(s.patternProperties as Record<string, Json>)[0] : undefined);

// ---------------------------------------------------------------- JSON Schema

/**
 * The schema editors read. Two differences from what the loader validates
 * against, both because the loader fills defaults before it validates:
 * a key with a default is not `required`, and `- headers:` (null options)
 * is allowed. Middleware entries get the options schema of each middleware.
 */
export function renderJsonSchema(): string {
  const root = plain(ConfigSchema);
  relaxRequired(root);
  const route = (props(root).routes!.items ?? {}) as Json;
  const middleware = props(route).middleware!;
  const entries: Record<string, Json> = {};
  for (const [name, factory] of middlewareRegistry) {
    const options = plain(factory.options);
    relaxRequired(options);
    entries[name] = { description: options.description, anyOf: [options, { type: 'null' }] };
  }
  middleware.items = {
    type: 'object',
    description: 'One middleware: `{ <name>: <options> }`.',
    minProperties: 1,
    maxProperties: 1,
    additionalProperties: false,
    properties: entries,
  };
  const { $id, title, ...rest } = root;
  return `${JSON.stringify({ $schema: 'http://json-schema.org/draft-07/schema#', $id, title, ...rest }, null, 2)}\n`;
}

function relaxRequired(schema: Json): void {
  if (Array.isArray(schema.required)) {
    const p = props(schema);
    const required = (schema.required as string[]).filter((k) => p[k]?.default === undefined);
    if (required.length > 0) schema.required = required;
    else delete schema.required;
  }
  for (const value of Object.values(schema)) {
    if (Array.isArray(value)) for (const v of value) if (v && typeof v === 'object') relaxRequired(v as Json);
    if (value && typeof value === 'object' && !Array.isArray(value)) relaxRequired(value as Json);
  }
}

// ---------------------------------------------------------------- Markdown

interface Row {
  path: string;
  type: string;
  default: string;
  description: string;
}

interface Section {
  title: string;
  intro: string | undefined;
  rows: Row[];
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function typeOf(s: Json): string {
  if (typeof s.title === 'string') return s.title;
  if (Array.isArray(s.anyOf)) {
    const branches = s.anyOf as Json[];
    if (branches.every((b) => 'const' in b)) return branches.map((b) => `\`${String(b.const)}\``).join(' | ');
    return branches.map(typeOf).join(' or ');
  }
  if ('const' in s) return `\`${String(s.const)}\``;
  switch (s.type) {
    case 'integer': {
      const min = s.minimum as number | undefined;
      const max = s.maximum as number | undefined;
      if (min !== undefined && max !== undefined) return `integer ${min}–${max}`;
      if (min !== undefined) return `integer ≥ ${min}`;
      return 'integer';
    }
    case 'array': {
      const items = (s.items ?? {}) as Json;
      if (items.patternProperties && !isObject(items)) return 'list of `{ <name>: <options> }`';
      return `list of ${isObject(items) ? 'objects' : typeOf(items)}`;
    }
    case 'object': {
      const value = recordValue(s);
      if (value) return `map of name → ${isObject(value) ? 'object' : typeOf(value)}`;
      return 'object';
    }
    case undefined:
      return 'any';
    default:
      return String(s.type);
  }
}

function defaultOf(s: Json, required: boolean): string {
  if (s.default === undefined) return required ? '**required**' : '—';
  if (isObject(s)) return '';
  return `\`${flow(s.default)}\``;
}

/**
 * One section per object in the schema, each listing its own keys; a key
 * holding an object (or a map or list of them) gets its own section after.
 */
function collect(schema: Json, path: string, title: string, intro: string | undefined, out: Section[]): void {
  const section: Section = { title, intro, rows: [] };
  out.push(section);
  const required = new Set((schema.required ?? []) as string[]);
  const nested: [Json, string][] = [];
  for (const [key, sub] of Object.entries(props(schema))) {
    const keyPath = path === '' ? key : `${path}.${key}`;
    let type = typeOf(sub);
    let child: [Json, string] | undefined;
    if (isObject(sub)) child = [sub, keyPath];
    else if (recordValue(sub) && isObject(recordValue(sub)!)) child = [recordValue(sub)!, `${keyPath}.<name>`];
    else if (sub.type === 'array' && isObject((sub.items ?? {}) as Json)) child = [sub.items as Json, `${keyPath}[]`];
    if (child) {
      type += `, see [\`${child[1]}\`](#${anchor(child[1])})`;
      nested.push(child);
    }
    section.rows.push({ path: keyPath, type, default: defaultOf(sub, required.has(key)), description: tableDescription(sub) });
  }
  for (const [sub, subPath] of nested) collect(sub, subPath, `\`${subPath}\``, sub.description as string | undefined, out);
}

/**
 * Durations and addresses repeat their format in every description, for the
 * editor's hover; the page explains each format once instead.
 */
function tableDescription(s: Json): string {
  const text = typeof s.description === 'string' ? s.description : '';
  if (s.title === 'duration') return text.replace(/ A number of milliseconds or a string such as .*$/, '');
  if (s.title === 'address') return text.replace(/ A port \([^)]*\), or .*$/, '');
  return text;
}

/** GitHub's heading anchors: lower-case, punctuation dropped, spaces to dashes. */
function anchor(path: string): string {
  return path
    .toLowerCase()
    .replace(/[^a-z0-9 _-]/g, '')
    .replace(/ /g, '-');
}

function renderSections(sections: Section[], level: string): string {
  return sections
    .map((s) => {
      const rows = s.rows.map((r) => `| \`${r.path}\` | ${cell(r.type)} | ${cell(r.default)} | ${cell(r.description)} |`);
      return [`${level} ${s.title}`, '', ...(s.intro ? [s.intro, ''] : []), '| Key | Type | Default | Description |', '|---|---|---|---|', ...rows, ''].join('\n');
    })
    .join('\n');
}

// ---------------------------------------------------------------- example file

/** A value in YAML flow style, quoted only where YAML needs it. */
function flow(value: unknown): string {
  if (Array.isArray(value)) return value.length === 0 ? '[]' : `[ ${value.map(flow).join(', ')} ]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    return entries.length === 0 ? '{}' : `{ ${entries.map(([k, v]) => `${scalar(k)}: ${flow(v)}`).join(', ')} }`;
  }
  return scalar(value);
}

function scalar(value: unknown): string {
  if (typeof value !== 'string') return String(value);
  // Plain when it cannot be read as anything but this string.
  if (/^[A-Za-z_/][\w./-]*$/.test(value) && !/^(true|false|yes|no|on|off|null|~)$/i.test(value)) return value;
  if (/^\d[\w.:]*$/.test(value) && !/^[\d.]+$/.test(value)) return value;
  return JSON.stringify(value);
}

function firstSentence(text: string): string {
  const m = /^(.+?\.)(\s|$)/.exec(text);
  return (m ? m[1]! : text).replace(/`/g, '');
}

function exampleLines(schema: Json, indent: string, out: string[]): void {
  const required = new Set((schema.required ?? []) as string[]);
  for (const [key, sub] of Object.entries(props(schema))) {
    const comment = typeof sub.description === 'string' ? `${indent}# ${firstSentence(sub.description)}` : undefined;
    const examples = sub.examples as unknown[] | undefined;
    const record = recordValue(sub);
    if (comment) out.push(comment);
    if (isObject(sub) && examples === undefined) {
      out.push(`${indent}${key}:`);
      exampleLines(sub, `${indent}  `, out);
    } else if (record && isObject(record)) {
      out.push(`${indent}${key}:`, `${indent}  app:`);
      exampleLines(record, `${indent}    `, out);
    } else if (sub.type === 'array' && isObject((sub.items ?? {}) as Json)) {
      const item: string[] = [];
      exampleLines(sub.items as Json, `${indent}    `, item);
      // The comments of the first key go above the dash, at its indent.
      const first = item.findIndex((l) => !l.trimStart().startsWith('#'));
      for (let i = 0; i < first; i++) item[i] = `${indent}  ${item[i]!.trimStart()}`;
      item[first] = `${indent}  - ${item[first]!.trimStart()}`;
      out.push(`${indent}${key}:`, ...item);
    } else {
      const value = examples?.[0] ?? sub.default;
      const shown = required.has(key) || sub.default !== undefined;
      if (Array.isArray(value) && value.some((v) => v !== null && typeof v === 'object')) {
        // Nested structures read better in block style.
        const block = stringify(value).trimEnd().split('\n');
        const prefix = shown ? indent : `${indent}# `;
        out.push(`${prefix}${key}:`, ...block.map((l) => `${prefix}  ${l}`));
      } else {
        // An optional key without a default is shown commented out.
        out.push(`${shown ? indent : `${indent}# `}${key}: ${flow(value)}`);
      }
    }
  }
}

export function renderFullExample(): string {
  const out: string[] = ['# yaml-language-server: $schema=../docs/rampart.schema.json'];
  exampleLines(plain(ConfigSchema), '', out);
  return `${out.join('\n')}\n`;
}

// ---------------------------------------------------------------- config.md

export function renderMarkdown(): string {
  const sections: Section[] = [];
  collect(plain(ConfigSchema), '', 'Top level', undefined, sections);
  const middleware: Section[] = [];
  for (const [name, factory] of middlewareRegistry) {
    const options = plain(factory.options);
    collect(options, `routes[].middleware[].${name}`, `\`${name}\``, options.description as string | undefined, middleware);
  }
  return `<!-- Generated by scripts/gen-config-docs.ts from packages/gateway/src/config/schema.ts
     and the middleware option schemas. Edit those, then run \`npm run docs\`. -->

# Gateway configuration reference

\`rampart gateway -c rampart.yaml\` reads one YAML file, and so does
\`rampart up -c rampart.yaml\`, which also starts the app servers of every
upstream with \`run:\` (\`rampart gateway\` refuses those). Every key below has a
type and, unless it is required, a default; a key left out takes its default.

- \`rampart check -c rampart.yaml\` validates a file and prints every problem
  at once, each with the file, the key path (\`upstreams.app.servers[1]\`), the
  line and the reason. It exits 0 when the file is valid, 1 when it is not.
- A running gateway reloads the file on \`SIGHUP\` and when the file changes.
  A file that fails validation is refused (the log line \`configuration
  refused\` lists the problems) and the running configuration stays in force.
  \`listen\` and \`admin\` are read at start only; changing them needs a restart.
  Under \`rampart up\`, SIGHUP (\`rampart reload\`) also replaces every instance
  one at a time; a changed file replaces them only when \`run.command\`,
  \`run.cwd\` or \`run.env\` changed.
- Durations are milliseconds (\`1500\`) or strings with a unit: \`500ms\`,
  \`10s\`, \`2m\`, \`1h\`. Addresses are a port (\`8080\`, all interfaces) or
  \`host:port\` (\`127.0.0.1:8080\`, \`[::1]:8080\`).

## Editor support

[\`rampart.schema.json\`](rampart.schema.json) is the JSON Schema of this file,
generated from the same source as this page. With the YAML extension of VS Code
(or any editor using yaml-language-server), put this comment on the first line
of the config file to get completion, hover docs and errors as you type; the
path is relative to the config file, or use an absolute path or URL:

\`\`\`yaml
# yaml-language-server: $schema=../docs/rampart.schema.json
\`\`\`

Or map the schema to your config files once, in the editor's settings:

\`\`\`json
{ "yaml.schemas": { "./docs/rampart.schema.json": ["rampart.yaml", "rampart.*.yaml"] } }
\`\`\`

## Minimal example

\`\`\`yaml
${MINIMAL_EXAMPLE}\`\`\`

## Keys

Key paths read as in the loader's messages: \`upstreams.<name>.keepAlive.maxIdle\`
is the \`maxIdle\` key of \`keepAlive\` in any upstream; \`routes[].path\` is the
\`path\` of any entry of the \`routes\` list.

${renderSections(sections, '###')}
## Middleware

Each route lists its middleware under \`middleware:\`, in order, as
\`- <name>: <options>\`; \`- <name>:\` alone takes every default. Options are
checked when the file loads, never mid-request.

${renderSections(middleware, '###')}
## Full example

Every key, with its default where it has one and an example value where it
has none; keys that are optional without a default are commented out.

\`\`\`yaml
${renderFullExample()}\`\`\`
`;
}

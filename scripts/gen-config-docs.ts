// `npm run docs`: writes docs/config.md and docs/rampart.schema.json from the
// config schema. `--check` writes nothing and exits 1 when either file differs
// from what the schema renders (a test runs it, so the docs cannot go stale).
// `--dir <path>` reads and writes another folder than docs/ (for tests).
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { renderMarkdown, renderJsonSchema } from './config-docs.ts';

const USAGE = 'Usage: node scripts/gen-config-docs.ts [--check] [--dir <folder>]\n';
let args: { check?: boolean; dir?: string };
try {
  args = parseArgs({ options: { check: { type: 'boolean' }, dir: { type: 'string' } }, strict: true }).values;
} catch (err) {
  process.stderr.write(`gen-config-docs: ${(err as Error).message}\n${USAGE}`);
  process.exit(2);
}

const dir = path.resolve(args.dir ?? fileURLToPath(new URL('../docs', import.meta.url)));
const outputs: [string, string][] = [
  ['config.md', renderMarkdown()],
  ['rampart.schema.json', renderJsonSchema()],
];
const shown = (name: string) => path.relative(process.cwd(), path.join(dir, name)) || name;

if (args.check) {
  const stale: string[] = [];
  for (const [name, text] of outputs) {
    const current = await readFile(path.join(dir, name), 'utf8').catch(() => null);
    if (current !== text) stale.push(current === null ? `${shown(name)} (missing)` : shown(name));
  }
  if (stale.length > 0) {
    process.stderr.write(`gen-config-docs: out of date with the config schema: ${stale.join(', ')}\nRun \`npm run docs\` and commit the result.\n`);
    process.exit(1);
  }
  process.stdout.write(`gen-config-docs: ${outputs.map(([n]) => shown(n)).join(', ')} up to date\n`);
} else {
  await mkdir(dir, { recursive: true });
  for (const [name, text] of outputs) {
    await writeFile(path.join(dir, name), text);
    process.stdout.write(`wrote ${shown(name)}\n`);
  }
}

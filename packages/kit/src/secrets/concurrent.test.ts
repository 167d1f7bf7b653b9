// Several app instances start at once in one folder: each must end with the
// same development secrets. Real child processes, released together.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const CHILD = path.join(import.meta.dirname, 'fixtures', 'load-secrets-child.ts');
const INSTANCES = 5;
// Rounds per test: one round of a racy implementation sometimes gets lucky.
const ROUNDS = 3;

function lineFrom(child: ChildProcessWithoutNullStreams, deadlineMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    let stderr = '';
    const timer = setTimeout(() => reject(new Error(`child ${child.pid} gave no line within ${deadlineMs} ms; stderr: ${stderr}`)), deadlineMs);
    const onErr = (chunk: Buffer) => {
      stderr += chunk.toString();
    };
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString();
      const end = buffer.indexOf('\n');
      if (end === -1) return;
      clearTimeout(timer);
      child.stdout.off('data', onData);
      child.stderr.off('data', onErr);
      resolve(buffer.slice(0, end));
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onErr);
    child.once('exit', (exitCode) => {
      clearTimeout(timer);
      reject(new Error(`child ${child.pid} exited with ${exitCode} before a line; stderr: ${stderr}`));
    });
  });
}

/** Starts the instances, waits until each is ready, releases them together, returns what each got. */
async function startTogether(dir: string, names: string[]): Promise<string[]> {
  const children = Array.from({ length: INSTANCES }, () => spawn(process.execPath, [CHILD, dir, names.join(',')], { stdio: 'pipe' }));
  try {
    await Promise.all(children.map((child) => lineFrom(child, 20_000).then((line) => assert.equal(line, 'ready'))));
    const results = children.map((child) => lineFrom(child, 20_000));
    for (const child of children) child.stdin.write('go\n');
    return await Promise.all(results);
  } finally {
    for (const child of children) if (child.exitCode === null && child.pid !== undefined) child.kill();
  }
}

function digestOfFile(file: string, names: string[]): string {
  const stored = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
  return createHash('sha256').update(JSON.stringify(Object.fromEntries(names.map((n) => [n, stored[n]])))).digest('hex');
}

test(`${INSTANCES} instances creating secrets.json at once end with the same values (${ROUNDS} rounds)`, async (t) => {
  for (let round = 0; round < ROUNDS; round++) {
    const root = mkdtempSync(path.join(os.tmpdir(), 'rampart-secrets-race-'));
    t.after(() => rmSync(root, { recursive: true, force: true }));
    const dir = path.join(root, '.rampart');
    const names = ['SESSION_SECRET', 'CSRF_SECRET'];
    const digests = await startTogether(dir, names);
    assert.equal(new Set(digests).size, 1, `round ${round}: instances disagree: ${digests.join(' ')}`);
    const file = path.join(dir, 'secrets.json');
    assert.equal(digests[0], digestOfFile(file, names), 'and agree with the file');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dir), ['secrets.json'], 'no temp file left behind');
  }
});

test(`${INSTANCES} instances adding names to an existing secrets.json at once keep the old values and agree on the new (${ROUNDS} rounds)`, async (t) => {
  for (let round = 0; round < ROUNDS; round++) {
    const root = mkdtempSync(path.join(os.tmpdir(), 'rampart-secrets-race-'));
    t.after(() => rmSync(root, { recursive: true, force: true }));
    const file = path.join(root, 'secrets.json');
    writeFileSync(file, JSON.stringify({ SESSION_SECRET: 'from an earlier run' }), { mode: 0o600 });
    const names = ['SESSION_SECRET', 'CSRF_SECRET', 'RESET_SECRET'];
    const digests = await startTogether(root, names);
    assert.equal(new Set(digests).size, 1, `round ${round}: instances disagree: ${digests.join(' ')}`);
    assert.equal(digests[0], digestOfFile(file, names));
    assert.equal((JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>).SESSION_SECRET, 'from an earlier run');
    assert.deepEqual(readdirSync(root), ['secrets.json']);
  }
});

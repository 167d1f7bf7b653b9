// The `run:` key and the `up` / `reload` commands at their edges: bad run:
// blocks get one clear line each with the key path, `rampart gateway` refuses
// run: (at start and on reload) and points to `rampart up`, `rampart reload`
// without a running `up` says so, and one config file runs under one `up`.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile, rm, access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { rampart, startGatewayProcess, freePort } from '../helpers/cli.ts';
import { INSTANCE_APP, startUp } from '../helpers/up.ts';
import { waitFor } from '../helpers/wait.ts';

const dir = await mkdtemp(path.join(tmpdir(), 'rampart-up-config-'));
await mkdir(path.join(dir, 'app'));

function withRun(run: Record<string, unknown>, port = '127.0.0.1:0'): string {
  return JSON.stringify({ listen: port, admin: false, upstreams: { app: { run } }, routes: [{ path: '/', upstream: 'app' }] });
}

async function fileWith(name: string, text: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, text);
  return file;
}

describe('run: configs and the up/reload commands', { concurrency: true }, () => {
  after(() => rm(dir, { recursive: true, force: true }));

  test('rampart check accepts a run: upstream whose command can run here', async () => {
    const file = await fileWith('good.yaml', withRun({ command: [process.execPath, INSTANCE_APP], cwd: 'app', instances: 3 }));
    const { code, stdout, stderr } = await rampart(['check', '-c', file]);
    assert.equal(code, 0, stderr);
    assert.equal(stdout, `${file}: valid (1 route, 1 upstream)\n`);
    const example = await rampart(['check', '-c', 'examples/up.yaml']);
    assert.equal(example.code, 0, `the README's rampart up example: ${example.stderr}`);
  });

  test('rampart check and rampart up: a command that cannot run, a missing cwd, a shell line the supervisor refuses, every one at once', async () => {
    const runs: Record<string, Record<string, unknown>> = {
      a: { command: 'no-such-program-rampart --port 1' },
      b: { command: './missing.sh' },
      c: { command: 'node a.js && node b.js' },
      d: { command: 'cd app; node server.js' },
      e: { command: [process.execPath, INSTANCE_APP], cwd: 'nowhere' },
      f: { command: [process.execPath, INSTANCE_APP], autoscale: { min: 3, max: 2 } },
      g: { command: [process.execPath, INSTANCE_APP], env: { PORT: 1 } },
    };
    const expected = [
      'upstreams.a.run.command (line 7): program "no-such-program-rampart" not found on the PATH; give its full path, or set PATH in run.env',
      `upstreams.b.run.command (line 12): ${path.join(dir, 'missing.sh')} is not an executable file`,
      'upstreams.c.run.command (line 17): command "node a.js && node b.js": it contains "&", so the process the supervisor starts would not be your server',
      'upstreams.d.run.command (line 22): command "cd app; node server.js": it contains ";"',
      `upstreams.e.run.cwd (line 31): no such folder: ${path.join(dir, 'nowhere')} (a relative cwd is taken from the folder of the config file)`,
      'upstreams.f.run.autoscale.max (line 42): must be at least min (3), got 2',
      'upstreams.g.run.env.PORT (line 53): is set by rampart for each instance (the port it must listen on); remove it',
    ];
    const text = JSON.stringify(
      { listen: '127.0.0.1:0', admin: false, upstreams: Object.fromEntries(Object.entries(runs).map(([name, run]) => [name, { run }])), routes: [{ path: '/', upstream: 'a' }] },
      null,
      2,
    );
    const file = await fileWith('bad.yaml', text);
    const check = await rampart(['check', '-c', file]);
    assert.equal(check.code, 1, check.stderr);
    for (const line of expected) assert.ok(check.stderr.includes(`${file}: ${line}`), `${line}\n---\n${check.stderr}`);
    assert.equal(check.stderr.trimEnd().split('\n').length, 1 + expected.length, check.stderr);

    const up = await rampart(['up', '-c', file]);
    assert.equal(up.code, 2);
    assert.equal(up.stdout, '', 'nothing listened, nothing started');
    assert.equal(up.stderr, check.stderr);
  });

  test('rampart gateway refuses run: and points to rampart up', async () => {
    const file = await fileWith('gw-run.yaml', withRun({ command: [process.execPath, INSTANCE_APP] }));
    const { code, stdout, stderr } = await rampart(['gateway', '-c', file]);
    assert.equal(code, 2);
    assert.doesNotMatch(stdout, /gateway listening/);
    assert.ok(stderr.includes(`${file}: upstreams.app.run (line 1): \`rampart gateway\` starts no app servers: run this file with \`rampart up -c ${file}\``), stderr);
  });

  test('a running rampart gateway refuses a reload that adds run:, and keeps its config', async (t) => {
    const file = path.join(dir, 'gw-reload.yaml');
    await writeFile(file, JSON.stringify({ listen: '127.0.0.1:0', admin: false, upstreams: { app: { servers: ['http://127.0.0.1:1'] } }, routes: [{ path: '/', upstream: 'app' }] }));
    const gw = startGatewayProcess(file, ['--no-watch']);
    t.after(() => gw.kill());
    await waitFor(() => gw.logs.some((l) => l.msg === 'gateway listening'), { timeoutMs: 15_000, what: 'gateway listening' });
    await writeFile(file, withRun({ command: [process.execPath, INSTANCE_APP] }));
    gw.child.kill('SIGHUP');
    const refused = await waitFor(() => gw.logs.find((l) => l.msg === 'configuration refused; the previous one stays in force'), { what: 'the reload refused' });
    const problems = refused.problems as { path: string; message: string }[];
    assert.equal(problems.length, 1);
    assert.equal(problems[0]?.path, 'upstreams.app.run (line 1)');
    assert.match(problems[0]?.message ?? '', /rampart up -c/);
    assert.equal(gw.child.exitCode, null, 'still running');
  });

  test('rampart reload without a running rampart up exits 1 and says so', async () => {
    const file = await fileWith('idle.yaml', withRun({ command: [process.execPath, INSTANCE_APP] }));
    const { code, stdout, stderr } = await rampart(['reload', '-c', file]);
    assert.equal(code, 1);
    assert.equal(stdout, '');
    assert.ok(stderr.startsWith(`rampart reload: no rampart up is running ${file} (no pid file at ${path.join(dir, '.rampart', 'idle.yaml.pid')})`), stderr);
  });

  test('one rampart up per config file; its pid file is removed when it stops', async () => {
    // An upstream of fixed servers: `up` runs a plain gateway too.
    const port = await freePort();
    const file = await fileWith('once.yaml', JSON.stringify({ listen: `127.0.0.1:${port}`, admin: false, upstreams: { app: { servers: ['http://127.0.0.1:1'] } }, routes: [{ path: '/', upstream: 'app' }] }));
    const up = startUp(file, ['--no-watch']);
    const pidFile = path.join(dir, '.rampart', 'once.yaml.pid');
    try {
      await waitFor(() => up.logs.some((l) => l.msg === 'gateway listening'), { timeoutMs: 15_000, what: 'up listening' });
      await waitFor(() => access(pidFile).then(() => true), { what: 'the pid file' });
      const second = await rampart(['up', '-c', file]);
      assert.equal(second.code, 1);
      assert.match(second.stderr, new RegExp(`^rampart up: already running for .*once\\.yaml \\(pid ${up.child.pid}\\)`));
    } finally {
      assert.equal(await up.stop(), 0, up.stderr());
    }
    await assert.rejects(access(pidFile), 'the pid file is gone');
  });
});

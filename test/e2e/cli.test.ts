// The `rampart` command as users and outside checks run it: real child
// processes, exit codes and the text on stdout/stderr.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { rampart } from '../helpers/cli.ts';

const COMMANDS = ['up', 'reload', 'gateway', 'check', 'demo'];

const dir = await mkdtemp(path.join(tmpdir(), 'rampart-cli-'));
const good = path.join(dir, 'good.yaml');
const bad = path.join(dir, 'bad.yaml');
await writeFile(good, `listen: "127.0.0.1:0"\nadmin: false\nupstreams:\n  app:\n    servers: ["http://127.0.0.1:3001"]\nroutes:\n  - path: /\n    upstream: app\n`);
await writeFile(bad, `listen: "127.0.0.1:0"\nlimits: { maxHeader: 100 }\nupstreams:\n  app:\n    servers: ["https://127.0.0.1:3001"]\nroutes:\n  - path: /\n    upstream: ap\n`);

describe('rampart command', { concurrency: true }, () => {
  after(() => rm(dir, { recursive: true, force: true }));

  test('--help (and no arguments) lists every command', async () => {
    for (const args of [['--help'], ['-h'], []]) {
      const { code, stdout } = await rampart(args);
      assert.equal(code, 0);
      assert.match(stdout, /^Usage: rampart <command>/m);
      for (const command of COMMANDS) assert.match(stdout, new RegExp(`^  ${command} `, 'm'), `${command} listed`);
    }
  });

  test('every command has --help', async () => {
    await Promise.all(
      COMMANDS.flatMap((command) =>
        [[command, '--help'], ...(command === 'gateway' ? [[command, '-h'], ['help', command]] : [])].map(async (args) => {
          const { code, stdout, stderr } = await rampart(args);
          assert.equal(code, 0, `${args.join(' ')}: ${stderr}`);
          assert.match(stdout, new RegExp(`^Usage: rampart ${command}\\b`), args.join(' '));
        }),
      ),
    );
  });

  test('--version prints the version', async () => {
    const { code, stdout } = await rampart(['--version']);
    assert.equal(code, 0);
    assert.match(stdout, /^rampart \d+\.\d+\.\d+/);
  });

  test('check: a valid file exits 0', async () => {
    const { code, stdout } = await rampart(['check', '-c', good]);
    assert.equal(code, 0);
    assert.equal(stdout, `${good}: valid (1 route, 1 upstream)\n`);
  });

  test('check: the example config of the README is valid', async () => {
    const { code, stdout, stderr } = await rampart(['check', '-c', 'examples/rampart.yaml']);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^examples\/rampart\.yaml: valid/);
  });

  test('check: an invalid file exits 1 and prints the file, key path, line and reason of every problem', async () => {
    const { code, stderr } = await rampart(['check', '--config', bad]);
    assert.equal(code, 1);
    assert.ok(stderr.includes(`${bad}: limits.maxHeader (line 2): unknown key; did you mean maxHeaders?`), stderr);
    assert.ok(stderr.includes(`${bad}: upstreams.app.servers[0] (line 5): https:// servers are not supported yet`), stderr);
    assert.ok(stderr.includes(`${bad}: routes[0].upstream (line 8): no upstream named "ap"`), stderr);
  });

  test('check: a missing file exits 1 and says so', async () => {
    const missing = path.join(dir, 'missing.yaml');
    const { code, stderr } = await rampart(['check', '-c', missing]);
    assert.equal(code, 1);
    assert.match(stderr, new RegExp(`${missing.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: \\(root\\): cannot read the file: ENOENT`));
  });

  test('gateway: an invalid file exits 2 with the problems, before listening', async () => {
    const { code, stdout, stderr } = await rampart(['gateway', '-c', bad]);
    assert.equal(code, 2);
    assert.match(stderr, /^invalid configuration in .*bad\.yaml:/);
    assert.ok(stderr.includes(`${bad}: routes[0].upstream (line 8): no upstream named "ap"`), stderr);
    assert.doesNotMatch(stdout, /gateway listening/);
  });

  test('gateway: an address in use exits 1 with a one-line reason, not a stack trace', async (t) => {
    const blocker = net.createServer().listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    t.after(() => blocker.close());
    const { port } = blocker.address() as net.AddressInfo;
    const file = path.join(dir, 'busy.yaml');
    await writeFile(file, `listen: "127.0.0.1:${port}"\nadmin: false\nupstreams: { app: { servers: ["http://127.0.0.1:1"] } }\nroutes: [ { path: /, upstream: app } ]\n`);
    const { code, stderr } = await rampart(['gateway', '-c', file]);
    assert.equal(code, 1);
    assert.equal(stderr, `rampart gateway: cannot listen on 127.0.0.1:${port}: the address is already in use (another rampart, or another server?)\n`);
  });

  test('an unknown command exits 2 and shows the commands', async () => {
    const { code, stdout, stderr } = await rampart(['gatway']);
    assert.equal(code, 2);
    assert.equal(stdout, '');
    assert.match(stderr, /^rampart: unknown command "gatway"/);
    assert.match(stderr, /^  gateway /m);
  });

  test('an unknown option exits 2 with the command help', async () => {
    const { code, stderr } = await rampart(['check', '--colour']);
    assert.equal(code, 2);
    assert.match(stderr, /Unknown option '--colour'/);
    assert.match(stderr, /Usage: rampart check/);
  });
});

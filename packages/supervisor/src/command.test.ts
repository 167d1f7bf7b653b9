import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveCommand } from './command.ts';
import { SupervisorError } from './errors.ts';

test('an argv array is spawned as is, without a shell', () => {
  assert.deepEqual(resolveCommand(['node', 'server.js', 'a b']), { file: 'node', args: ['server.js', 'a b'], viaShell: false });
});

test('a string of plain words is split and spawned directly', () => {
  assert.deepEqual(resolveCommand('  node  dist/server.js --port-from=env '), { file: 'node', args: ['dist/server.js', '--port-from=env'], viaShell: false });
});

test('any other string runs through /bin/sh with exec, so the server keeps the PID the supervisor signals', () => {
  const shell = (command: string) => {
    const r = resolveCommand(command);
    assert.equal(r.file, '/bin/sh');
    assert.equal(r.viaShell, true);
    assert.equal(r.args[0], '-c');
    return r.args[1];
  };
  assert.equal(shell('node "$APP_DIR/server.js"'), 'exec node "$APP_DIR/server.js"');
  // exec goes after the assignments, which stay in the exec'd program's environment.
  assert.equal(shell('NODE_ENV=production LOG="a b" node server.js'), 'NODE_ENV=production LOG="a b" exec node server.js');
  // Redirections belong to a simple command.
  assert.equal(shell('node server.js 2>&1'), 'exec node server.js 2>&1');
  // Operators inside quotes and substitutions are not the command's own.
  assert.equal(shell(`node server.js --motd 'a && b; c | d' "x & y"`), `exec node server.js --motd 'a && b; c | d' "x & y"`);
  assert.equal(shell('node $(echo server.js; true) --n=$((1+2))'), 'exec node $(echo server.js; true) --n=$((1+2))');
  assert.equal(shell('node server.js # a comment; not a command'), 'exec node server.js # a comment; not a command');
  assert.equal(shell('exec node server.js --x=$X'), 'exec node server.js --x=$X');
});

test('strings that exec cannot take are refused with a reason', () => {
  const refused = (command: string | string[], reason: RegExp) =>
    assert.throws(
      () => resolveCommand(command),
      (err: unknown) => err instanceof SupervisorError && err.code === 'RAMPART_ERR_SUPERVISOR_COMMAND' && reason.test(err.message) && err.message.includes('argv array'),
      command.toString(),
    );
  refused('cd app && node server.js', /"&"/);
  refused('npm run build; node server.js', /";"/);
  refused('node server.js | tee log', /"\|"/);
  refused('node server.js &', /"&"/);
  refused('node server.js &> log', /"&"/);
  refused('(cd app; node $X)', /"\("/);
  refused('node a.js\nnode b.js', /line break/);
  refused('if true; then node $X; fi', /";"/);
  refused('if [ -n "$X" ]', /keyword "if"/);
  refused('cd "$APP"', /builtin "cd"/);
  refused('FOO=1 BAR="2"', /names no program/);
  refused('node "unterminated', /unterminated/);
  refused('   ', /empty/);
  refused([], /empty/);
});

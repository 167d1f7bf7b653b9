// What the config schema cannot know about a `run:` block: whether its
// command can run on this machine. Checked when the file loads (`rampart up`,
// `rampart check`, and every reload), so that a typo is one clear line with
// its key path instead of an instance crash-looping with backoff.
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { resolveCommand, SupervisorError } from '@rampart/supervisor';
import type { RunCheck, RunProblem } from '@rampart/gateway';

export const checkRun: RunCheck = (run) => {
  const problems: RunProblem[] = [];
  let cwdOk = true;
  try {
    if (!statSync(run.cwd).isDirectory()) {
      problems.push({ key: ['cwd'], message: `${run.cwd} is not a folder` });
      cwdOk = false;
    }
  } catch {
    problems.push({ key: ['cwd'], message: `no such folder: ${run.cwd} (a relative cwd is taken from the folder of the config file)` });
    cwdOk = false;
  }
  let program: string;
  try {
    const resolved = resolveCommand(run.command);
    // Through /bin/sh the program is a word of a shell line: the shell reports it.
    if (resolved.viaShell) return problems;
    program = resolved.file;
  } catch (err) {
    if (!(err instanceof SupervisorError)) throw err;
    problems.push({ key: ['command'], message: err.message });
    return problems;
  }
  if (!cwdOk && program.includes('/') && !path.isAbsolute(program)) return problems;
  const found = findProgram(program, run.cwd, run.env.PATH ?? process.env.PATH ?? '');
  if (found !== true) problems.push({ key: ['command'], message: found });
  return problems;
};

/** True when `program` can be executed as spawn() would find it; else why not. */
function findProgram(program: string, cwd: string, searchPath: string): true | string {
  if (program.includes('/')) {
    const file = path.resolve(cwd, program);
    return executable(file) ? true : `${file} is not an executable file`;
  }
  for (const dir of searchPath.split(path.delimiter)) {
    if (dir !== '' && executable(path.join(dir, program))) return true;
  }
  return `program ${JSON.stringify(program)} not found on the PATH; give its full path, or set PATH in run.env`;
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

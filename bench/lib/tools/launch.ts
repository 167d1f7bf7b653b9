import { join } from 'node:path';
import { startProcess, stopProcess, waitForPort } from '../process.ts';
import type { Running, ToolContext } from './index.ts';

export interface LaunchOptions {
  name: string;
  port: number;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** Where stdout goes; defaults to the tool's log file. */
  stdoutPath?: string;
}

/** Starts a pinned process and resolves once its port accepts connections. */
export async function launch(ctx: Pick<ToolContext, 'dir' | 'core'>, options: LaunchOptions): Promise<Running> {
  const logPath = join(ctx.dir, `${options.name}.log`);
  const child = startProcess({
    name: options.name,
    command: options.command,
    args: options.args,
    core: ctx.core,
    cwd: ctx.dir,
    env: options.env,
    stdoutPath: options.stdoutPath ?? logPath,
    logPath,
  });
  try {
    await waitForPort(options.port, child);
  } catch (error) {
    await stopProcess(child);
    throw error;
  }
  return { port: options.port, child };
}

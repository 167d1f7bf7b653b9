// Every error the supervisor creates comes from this file, with a stable code
// (RAMPART_ERR_SUPERVISOR_*) and a message that says what to do. Same pattern
// as the gateway's errors.ts; kept separate so the supervisor has no
// dependency on the gateway.

export class SupervisorError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SupervisorError';
    this.code = code;
  }
}

/** An option is missing or out of range; `path` names it as the caller wrote it. */
export const invalidOption = (path: string, reason: string): SupervisorError =>
  new SupervisorError('RAMPART_ERR_SUPERVISOR_OPTION', `${path}: ${reason}`);

/** A command string the supervisor cannot run so that its signals reach the server. */
export const unsafeCommand = (command: string, reason: string): SupervisorError =>
  new SupervisorError(
    'RAMPART_ERR_SUPERVISOR_COMMAND',
    `command ${JSON.stringify(command)}: ${reason}. The supervisor stops an instance by signalling the process it started, ` +
      'so that process must be your server: give the command as an argv array, move setup into `cwd`/`env`, ' +
      'or put it in a script whose last line is `exec <your server>`',
  );

/** A rolling restart stopped because a new instance never became ready; the old instances keep serving. */
export const rolloutFailed = (id: string, why: string): SupervisorError =>
  new SupervisorError(
    'RAMPART_ERR_SUPERVISOR_ROLLOUT',
    `rolling restart stopped: new instance ${id} did not become ready (${why}); the remaining old instances keep serving and the previous command stays in force`,
  );

/** An operation was asked of an instance set after stop(). */
export const setStopped = (name: string): SupervisorError =>
  new SupervisorError('RAMPART_ERR_SUPERVISOR_STOPPED', `instance set ${name} is stopped; create a new one to run instances again`);

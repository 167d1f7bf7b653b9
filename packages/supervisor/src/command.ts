// How an instance's command becomes the process we spawn.
//
// The supervisor stops an instance by signalling the PID it spawned, so that
// PID must be the server itself. `sh -c "node server.js"` would put a shell in
// between: SIGTERM would reach the shell, and the server would be orphaned or
// killed without its graceful shutdown (the classic `npm start` /
// `sh -c` PID 1 problem). So:
//   - an argv array is spawned as is, no shell;
//   - a string made only of plain words (`node server.js --port-from-env`) is
//     split on spaces and spawned directly, no shell;
//   - any other string runs as `/bin/sh -c '<assignments> exec <command>'`:
//     `exec` makes the server replace the shell, keeping the PID. Strings that
//     `exec` cannot take (`a && b`, `a; b`, pipes, background `&`, subshells,
//     keywords like `if`, builtins like `cd`) are refused with a reason,
//     because part of them would silently never run.

import { unsafeCommand } from './errors.ts';

export interface ResolvedCommand {
  /** Program to spawn. */
  readonly file: string;
  readonly args: readonly string[];
  /** True when the command goes through `/bin/sh -c 'exec …'`. */
  readonly viaShell: boolean;
}

const PLAIN_WORD = /^[\w@%+=:,./-]+$/;
const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=/;
const KEYWORDS = new Set(['if', 'then', 'else', 'elif', 'fi', 'do', 'done', 'case', 'esac', 'while', 'until', 'for', 'in', '{', '}', '!', 'function', 'select', 'time', '[[', ']]']);
// Builtins that change the shell itself: `exec cd dir` fails, and their effect
// would have to outlive the shell to mean anything.
const SHELL_BUILTINS = new Set(['cd', 'export', 'set', 'unset', '.', 'source', 'eval', 'ulimit', 'umask', 'alias', 'trap', 'readonly', 'local', 'return', 'exit', 'shift', 'wait', 'read']);

export function resolveCommand(command: string | readonly string[]): ResolvedCommand {
  if (typeof command !== 'string') {
    const [file, ...args] = command;
    if (file === undefined || file === '') throw unsafeCommand(String(command), 'the argv array is empty');
    return { file, args, viaShell: false };
  }
  const plain = command.trim().split(/[ \t]+/).filter((w) => w !== '');
  const first = plain[0];
  if (first === undefined) throw unsafeCommand(command, 'the command is empty');
  if (plain.every((w) => PLAIN_WORD.test(w)) && !first.includes('=')) {
    return { file: first, args: plain.slice(1), viaShell: false };
  }
  return { file: '/bin/sh', args: ['-c', withExec(command)], viaShell: true };
}

/** `command` with `exec` inserted before its program word, after any leading `NAME=value` words. */
function withExec(command: string): string {
  const { words, operator } = scan(command);
  if (operator !== undefined) throw unsafeCommand(command, `it contains ${operator}, so the process the supervisor starts would not be your server`);
  const k = words.findIndex((w) => !ASSIGNMENT.test(command.slice(w.start, w.end)));
  const program = words[k];
  if (program === undefined) throw unsafeCommand(command, words.length === 0 ? 'the command is empty' : 'it only sets variables and names no program');
  const name = command.slice(program.start, program.end);
  if (KEYWORDS.has(name)) throw unsafeCommand(command, `it starts with the shell keyword "${name}"`);
  if (SHELL_BUILTINS.has(name)) throw unsafeCommand(command, `it starts with the shell builtin "${name}"`);
  if (name === 'exec') return command;
  return `${command.slice(0, program.start)}exec ${command.slice(program.start)}`;
}

interface Span {
  start: number;
  end: number;
}

/**
 * Splits `command` into top-level words as /bin/sh (dash) would, far enough to
 * find control operators outside quotes and substitutions. Redirections such as
 * `2>&1` are part of a simple command and allowed.
 */
function scan(command: string): { words: Span[]; operator?: string } {
  const words: Span[] = [];
  let wordStart = -1;
  let i = 0;
  const endWord = () => {
    if (wordStart >= 0) words.push({ start: wordStart, end: i });
    wordStart = -1;
  };
  while (i < command.length) {
    const c = command[i];
    if (c === ' ' || c === '\t') {
      endWord();
      i++;
      continue;
    }
    if (c === '#' && wordStart < 0) break;
    if (c === '\n' || c === '\r') return { words, operator: 'a line break' };
    if (c === ';' || c === '|' || c === '(' || c === ')') return { words, operator: `"${c}"` };
    if (c === '&' && command[i - 1] !== '>' && command[i - 1] !== '<') return { words, operator: '"&"' };
    if (wordStart < 0) wordStart = i;
    const next = skipQuoted(command, i);
    if (next < 0) return { words, operator: 'an unterminated quote or substitution' };
    i = next;
  }
  endWord();
  return { words };
}

/** Index after the character or quoted/substituted run that starts at `i`; -1 when it never ends. */
function skipQuoted(s: string, i: number): number {
  const c = s[i];
  if (c === '\\') return i + 2;
  if (c === "'") {
    const j = s.indexOf("'", i + 1);
    return j < 0 ? -1 : j + 1;
  }
  if (c === '"') return skipUntil(s, i + 1, '"');
  if (c === '`') return skipUntil(s, i + 1, '`');
  if (c === '$' && s[i + 1] === '(') return skipUntil(s, i + 2, ')');
  if (c === '$' && s[i + 1] === '{') return skipUntil(s, i + 2, '}');
  return i + 1;
}

function skipUntil(s: string, from: number, close: string): number {
  // Inside double quotes only \, $( ), ${ } and backquotes are special; single quotes are literal.
  const inDouble = close === '"';
  let i = from;
  while (i < s.length) {
    const c = s[i];
    if (c === close) return i + 1;
    if (c === '\\') {
      i += 2;
      continue;
    }
    // Nested parentheses inside $( … ), e.g. $(echo $((1+2))).
    const opens = (close === ')' && c === '(') || c === '`' || (c === '$' && (s[i + 1] === '(' || s[i + 1] === '{')) || (!inDouble && (c === '"' || c === "'"));
    if (opens) {
      i = c === '(' ? skipUntil(s, i + 1, ')') : skipQuoted(s, i);
      if (i < 0) return -1;
      continue;
    }
    i++;
  }
  return -1;
}

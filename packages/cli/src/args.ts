import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';

/** Parses a command's options; a bad option prints the command's help and exits 2. */
export function parseOrExit(args: string[], options: ParseArgsOptionsConfig, help: string): Record<string, string | boolean | undefined> {
  try {
    return parseArgs({ args, options, allowPositionals: false, strict: true }).values as Record<string, string | boolean | undefined>;
  } catch (err) {
    process.stderr.write(`rampart: ${(err as Error).message}\n\n${help}`);
    process.exit(2);
  }
}

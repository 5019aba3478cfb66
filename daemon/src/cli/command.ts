// The shape of one CLI command. Each command lives in its own file under cli/commands/ and is
// listed in cli/registry.ts.
import { type ParseArgsConfig, parseArgs } from 'node:util';

export interface CliIO {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
  /** True when stdin and stdout are a terminal (prompts and QR codes make sense). */
  interactive: boolean;
  /** Ask a yes/no question on the terminal; false when not interactive. */
  /** A yes/no question; `signal` takes it back (answered no) when what it asks about is over. */
  confirm: (question: string, signal?: AbortSignal) => Promise<boolean>;
}

export interface CliCommand {
  name: string;
  /** One line for `errand --help`. */
  summary: string;
  /** Full text for `errand <name> --help`. */
  help: string;
  options?: ParseArgsConfig['options'];
  allowPositionals?: boolean;
  run: (args: ParsedCommandArgs, io: CliIO) => Promise<number>;
}

export interface ParsedCommandArgs {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
  home: string;
}

export function parseCommandArgs(cmd: CliCommand, argv: string[]) {
  return parseArgs({
    args: argv,
    options: { help: { type: 'boolean', short: 'h' }, json: { type: 'boolean' }, ...(cmd.options ?? {}) },
    allowPositionals: cmd.allowPositionals ?? false,
    strict: true,
  });
}

/** Print either JSON (for --json) or human text. */
export function emit(io: CliIO, json: boolean, value: unknown, human: () => string): void {
  io.out(json ? JSON.stringify(value, null, 2) : human());
}

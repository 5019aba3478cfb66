// The `errand` command line.
import readline from 'node:readline/promises';
import { defaultHome } from '../config/paths.js';
import { type CliIO, parseCommandArgs } from './command.js';
import { namingUsersCommand } from './command-name.js';
import { COMMANDS } from './registry.js';
import { linesForTerminal } from './terminal-text.js';

/**
 * An error's text as a sentence for the terminal: what it quotes (an argument, a key from
 * config.json, bytes of a damaged file) cannot move the cursor or retitle the window, and it ends
 * with a full stop before the next sentence (node's parseArgs messages have none).
 */
function said(message: string): string {
  const text = linesForTerminal(message.trimEnd()).join('\n');
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

async function usage(): Promise<string> {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const commands = await Promise.all(COMMANDS.map((c) => c.load()));
  return [
    'Usage: errand <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    "Run `errand <command> --help` for a command's options. State lives in ERRAND_HOME.",
  ].join('\n');
}

export function defaultIO(): CliIO {
  const interactive = !!process.stdin.isTTY && !!process.stdout.isTTY;
  return {
    out: (t) => process.stdout.write(t + '\n'),
    err: (t) => process.stderr.write(t + '\n'),
    env: process.env,
    interactive,
    confirm: async (question, signal) => {
      if (!interactive || signal?.aborted) return false;
      const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
      try {
        return /^y(es)?$/i.test((await rl.question(question, signal ? { signal } : {})).trim());
      } catch (err) {
        // Taken back (the phone stopped waiting): the caller ends the line and says why.
        if (signal?.aborted) return false;
        throw err;
      } finally {
        rl.close();
      }
    },
  };
}

export async function runCli(argv: string[], given: CliIO = defaultIO()): Promise<number> {
  // Every hint ("run `errand pair`") names the command this user has: `npx errand` from the project.
  const named = namingUsersCommand(given.env);
  const io: CliIO = { ...given, out: (t) => given.out(named(t)), err: (t) => given.err(named(t)) };
  const [name, ...rest] = argv;
  if (name === 'help' && rest[0]) {
    // `errand help pair` is `errand pair --help`.
    const entry = COMMANDS.find((c) => c.name === rest[0]);
    if (!entry) {
      io.err(`errand help: unknown command "${rest[0]}".\n\n${await usage()}`);
      return 2;
    }
    io.out((await entry.load()).help);
    return 0;
  }
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.out(await usage());
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-v') {
    const { VERSION } = await import('../version.js');
    io.out(VERSION);
    return 0;
  }
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) {
    io.err(`errand: unknown command "${name}".\n\n${await usage()}`);
    return 2;
  }
  const cmd = await entry.load();
  let parsed;
  try {
    parsed = parseCommandArgs(cmd, rest);
  } catch (err) {
    io.err(`errand ${name}: ${said((err as Error).message)}\nRun \`errand ${name} --help\`.`);
    return 2;
  }
  if (parsed.values.help) {
    io.out(cmd.help);
    return 0;
  }
  try {
    return await cmd.run({ values: parsed.values, positionals: parsed.positionals, home: defaultHome(io.env) }, io);
  } catch (err) {
    // An error nobody expected still reads as a sentence, not a stack trace (ERRAND_DEBUG=1 shows it).
    io.err(`errand ${name}: ${said((err as Error).message ?? String(err))}`);
    if (io.env.ERRAND_DEBUG) io.err((err as Error).stack ?? '');
    return 1;
  }
}

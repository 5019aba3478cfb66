// A command-line mistake reads as sentences: node's parseArgs text gets its full stop before
// "Run `errand … --help`.", and what it quotes from the command line is shown with control
// characters made visible.
import { expect, it } from 'vitest';
import type { CliIO } from '../../src/cli/command.js';
import { runCli } from '../../src/cli/main.js';

async function errorOf(argv: string[]): Promise<{ code: number; err: string }> {
  const err: string[] = [];
  const io: CliIO = {
    out: () => undefined,
    err: (t) => err.push(t),
    env: { ERRAND_HOME: '/nonexistent/errand-cli-error-sentences' },
    interactive: false,
    confirm: async () => false,
  };
  const code = await runCli(argv, io);
  return { code, err: err.join('\n') };
}

it('a stray positional argument: a full stop, then the help hint', async () => {
  const r = await errorOf(['status', 'extra']);
  expect(r.code).toBe(2);
  expect(r.err).toBe(
    "errand status: Unexpected argument 'extra'. This command does not take positional arguments.\nRun `errand status --help`.",
  );
});

it('an unknown option with terminal escapes in it is shown escaped', async () => {
  const r = await errorOf(['status', '--\x1b]0;pwned\x07']);
  expect(r.code).toBe(2);
  expect(r.err).toContain('\\x1b]0;pwned\\x07');
  expect(r.err).not.toMatch(/[\x00-\x09\x0b-\x1f]/);
});

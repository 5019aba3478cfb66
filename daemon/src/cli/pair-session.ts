// One pairing session on the running daemon, as `errand pair` runs it and `errand start` runs it for
// its first-run code: show the code, ask about each claim on it, say how it ended. The daemon ends
// the session (pair.start) when the phone stops waiting, the claim's wait runs out or a newer code
// replaces this one; a question still open then is taken back, and the terminal says what happened.
import { homePaths } from '../config/paths.js';
import { controlCall, DaemonNotRunningError } from '../control/client.js';
import type { PairProgress, PairResult } from '../control/protocol.js';
import type { CliIO } from './command.js';
import { callDaemon } from './daemon-client.js';
import { forTerminal, linesForTerminal } from './terminal-text.js';

export type PairCode = Extract<PairProgress, { type: 'code' }>;

export interface PairSessionOptions {
  /** The command whose words these are: errors read `errand <as>: …`. */
  as: string;
  /** Approve the first phone that claims the code without asking (`--yes`). */
  autoApprove: boolean;
  /** Machine-readable lines (`--json`): each claim, then the result. */
  json: boolean;
  /** Shows the code (the command's own words); a claim is asked about once this is done. */
  showCode: (code: PairCode) => void | Promise<void>;
  /** Once aborted (the daemon in this very process is stopping), nothing more is said or asked. */
  signal?: AbortSignal;
}

/** Runs the session to its end; the exit code (0 once a phone is paired). */
export async function runPairSession(io: CliIO, home: string, opts: PairSessionOptions): Promise<number> {
  const quiet = () => opts.signal?.aborted === true;
  /** Aborted when the session is over: a question still open is taken back. */
  const over = new AbortController();
  const confirm = io.confirm;
  let shown: Promise<void> = Promise.resolve();
  let answered: Promise<void> = Promise.resolve();

  const onClaim = (c: { id: string; name: string; address?: string }) => {
    if (quiet()) return;
    if (opts.json) io.out(JSON.stringify({ claim: c }));
    else io.out(`\n"${forTerminal(c.name)}" from ${forTerminal(c.address ?? 'unknown address')} wants to pair.`);
    if (opts.autoApprove) return;
    answered = answered.then(() => shown).then(() => answer(c.id));
  };
  const answer = async (claimId: string) => {
    if (over.signal.aborted || quiet()) return;
    if (!io.interactive) {
      io.err(
        `errand ${opts.as}: approving a phone needs a terminal to answer in; run \`errand pair\` in a terminal, or \`errand pair --yes\` to approve the first phone that claims the code. Declined.`,
      );
      await callDaemon(io, home, 'pair.decide', { claimId, approve: false });
      return;
    }
    const approve = await confirm.call(io, 'Approve this device? [y/N] ', over.signal).catch(() => false);
    // Answered after the session ended (an io that could not take the question back): nothing to decide.
    if (over.signal.aborted || quiet()) return;
    await callDaemon(io, home, 'pair.decide', { claimId, approve });
  };

  let result: PairResult | Error;
  try {
    result = await controlCall(
      homePaths(home).socket,
      'pair.start',
      { autoApprove: opts.autoApprove },
      {
        timeoutMs: 0,
        onProgress: (p) => {
          if (p.type === 'code') shown = Promise.resolve(quiet() ? undefined : opts.showCode(p)).catch(() => undefined);
          else onClaim(p.claim);
        },
      },
    );
  } catch (err) {
    result = err as Error;
  }
  // The daemon ended the session: the question, if still open, has nobody to decide for.
  // (io.confirm taken back ends its prompt's line: what follows starts on a line of its own.)
  over.abort();
  if (quiet()) return 1;

  await shown; // the code is on the screen before what became of it
  const code = result instanceof Error ? 1 : 'paired' in result ? 0 : 1;
  if (result instanceof Error) {
    const said = result instanceof DaemonNotRunningError ? result.message : `errand ${opts.as}: ${result.message}`;
    io.err(linesForTerminal(said).join('\n'));
  } else if (opts.json) io.out(JSON.stringify(result));
  else if ('paired' in result)
    io.out(`Paired "${forTerminal(result.paired.name)}". Open the app on the phone and add it to the home screen.`);
  else
    io.err(
      'declined' in result
        ? 'Pairing declined.'
        : 'expired' in result
          ? 'The pairing code expired. Run `errand pair` again.'
          : 'Pairing cancelled.',
    );
  // A question the io could not take back still holds the terminal until it is answered.
  await answered;
  return code;
}

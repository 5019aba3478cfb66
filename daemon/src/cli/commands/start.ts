// `errand start`: run the daemon in the foreground until SIGTERM or Ctrl-C.
import fs from 'node:fs';
import { homePaths } from '../../config/paths.js';
import { portFromDigits } from '../../config/port.js';
import type { Daemon } from '../../daemon.js';
import { loopbackOnlyHint, phoneOrigin, plainHttpOnNetworkWarning } from '../../server/origins.js';
import { DISK_FULL_RETRY_MS, startWhenLockFree } from '../../service/lock-wait.js';
import { STOP_TIMEOUT_SECONDS } from '../../service/units.js';
import { keepRunningWithoutTerminal } from '../../util/log.js';
import type { CliCommand, CliIO } from '../command.js';
import { EXIT_HOME_UNUSABLE, homeAccessMessage } from '../home-access.js';
import { runPairSession } from '../pair-session.js';
import { forTerminal, linesForTerminal } from '../terminal-text.js';

/** Errors the daemon stops on, each with its own exit code (the service manager must not restart-loop). */
function exitCodeOf(err: unknown): number {
  const code = (err as { exitCode?: unknown }).exitCode;
  return typeof code === 'number' ? code : 1;
}

/**
 * A stop not over by then is given up on, well inside the service manager's stop timeout: the
 * daemon exits itself, saying why, rather than being killed without a word.
 */
export const STOP_DEADLINE_MS = (STOP_TIMEOUT_SECONDS - 5) * 1000;

export type StopOutcome = { outcome: 'stopped' } | { outcome: 'failed'; error: Error } | { outcome: 'late' };

/** Runs a stop, waiting for it at most `deadlineMs`. */
export function stopWithin(stop: () => Promise<void>, deadlineMs: number): Promise<StopOutcome> {
  return new Promise((resolve) => {
    const late = setTimeout(() => resolve({ outcome: 'late' }), deadlineMs);
    const settle = (outcome: StopOutcome) => {
      clearTimeout(late);
      resolve(outcome);
    };
    stop().then(
      () => settle({ outcome: 'stopped' }),
      (error: unknown) => settle({ outcome: 'failed', error: error as Error }),
    );
  });
}

export const startCommand: CliCommand = {
  name: 'start',
  summary: 'Run the daemon in the foreground',
  help: `Usage: errand start [--port <n>] [--lan]

Runs the Errand daemon in this terminal until Ctrl-C (or SIGTERM). When no phone is paired yet,
it shows a pairing QR code and asks you to approve the phone here.

Options:
  --port <n>   listen on this port (default 7345, or ERRAND_PORT)
  --lan        also answer on this machine's LAN addresses over plain HTTP
               (degraded: phones need HTTPS for notifications, install and offline use)

State lives in ERRAND_HOME (default ~/.local/state/errand on Linux,
~/Library/Application Support/Errand on macOS).`,
  options: { port: { type: 'string', short: 'p' }, lan: { type: 'boolean' } },
  async run(args, io) {
    let port: number | undefined;
    if (args.values.port !== undefined) {
      port = portFromDigits(String(args.values.port));
      if (port === undefined || port < 1) {
        io.err(
          `errand start: --port must be a whole number from 1 to 65535, not "${forTerminal(String(args.values.port))}".`,
        );
        return 2;
      }
    }
    // From here on this process is the daemon: a terminal that goes away must not end it.
    keepRunningWithoutTerminal();
    let daemon;
    try {
      // Loaded here, not at the top: other commands should not pay for the whole daemon.
      const { startDaemon } = await import('../../daemon.js');
      // Secrets in the environment are read once, then removed from it (also from what
      // /proc/<pid>/environ shows): a command run without the sandbox could read them there.
      const { takeSecretsFromEnvironment } = await import('../../tools/environ.js');
      const env = io.env === process.env ? takeSecretsFromEnvironment().env : io.env;
      const launch = () =>
        startDaemon({
          home: args.home,
          env,
          overrides: { port, lan: args.values.lan === true },
          logToStderr: true,
        });
      if (io.env.ERRAND_SUPERVISOR) {
        const started = await startWhenHandStartedDaemonStops(launch, args.home, io);
        if (!started) return 0; // stopped by the service manager while waiting
        daemon = started;
      } else daemon = await launch();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOSPC') {
        // Before the store opened (the lock file, the log): the same environment error as in the store.
        io.err(
          `errand start: The disk is full at ${forTerminal(args.home)}: Errand cannot save anything, so it did not start. Free some space, then start it again.`,
        );
        return 74;
      }
      // Loaded here, not at the top: only a start that failed to listen needs these words.
      const { listenAddressProblem, portInUseProblem } = await import('../../doctor/listen-check.js');
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
        const inUse = await portInUseProblem(
          err as NodeJS.ErrnoException & { port?: number; address?: string },
          args.home,
          { flag: port !== undefined, env: io.env },
        );
        io.err(`errand start: ${forTerminal(inUse.problem)}\n${forTerminal(inUse.fix)}`);
        return 78; // a configuration error: the service manager must not retry it every few seconds
      }
      const homeProblem = homeAccessMessage(err, args.home);
      const listenProblem = homeProblem ? undefined : listenAddressProblem(err);
      const addressProblem = listenProblem && forTerminal(`${listenProblem.problem} ${listenProblem.fix}`);
      // Other messages may quote what is in the home's files (a key of config.json, bytes of a damaged file).
      io.err(`errand start: ${homeProblem ?? addressProblem ?? linesForTerminal((err as Error).message).join('\n')}`);
      const code = homeProblem ? EXIT_HOME_UNUSABLE : addressProblem ? EXIT_BAD_ADDRESS : exitCodeOf(err);
      // launchd cannot skip restarts for particular exit codes: a configuration error or a corrupt
      // store exits 0 under it, so it is not restarted every few seconds to fail the same way.
      if (io.env.ERRAND_SUPERVISOR === 'launchd' && (code === 78 || code === 65)) return 0;
      return code;
    }
    const { ctx } = daemon;
    io.out(`Errand ${ctx.version} is running at ${daemon.url} (home ${ctx.paths.home}).`);
    const full = await diskFullWarning(ctx.paths.home);
    if (full) io.err(full);
    // daemon/bin/errand.js keeps the code compiled so far for the next start (bin/code-cache.js).
    (process as NodeJS.EventEmitter).emit('errand:started');
    // LAN mode, or a `bind` set to a network address: either way plain HTTP on the network.
    const plainHttp = plainHttpOnNetworkWarning(ctx.config().lan, ctx.listening());
    if (plainHttp) io.out(plainHttp);
    if (!ctx.config().anthropic.apiKey)
      io.out(
        `No Anthropic API key is set: tasks will fail until you set ANTHROPIC_API_KEY or add anthropic.apiKey to ${ctx.paths.config} (a login service does not see your shell's environment).`,
      );

    // Aborted once the daemon stops: its pairing session ends with it, without a word.
    const stopping = new AbortController();
    if (ctx.store.devices.list().length === 0 && io.interactive) {
      // The first-run code is an `errand pair` session on this daemon: a claim is asked about here, and
      // the phone giving up, the claim's wait running out or a newer code are said here as there.
      void runPairSession(io, args.home, {
        as: 'start',
        autoApprove: false,
        json: false,
        signal: stopping.signal,
        showCode: async ({ url, expiresAt }) => {
          const { renderQr } = await import('../qr.js'); // only when a QR code is shown
          io.out(await renderQr(url));
          io.out(
            `No phone is paired yet. Scan this code, or open:\n  ${url}\n(valid until ${new Date(expiresAt).toLocaleTimeString()}; run \`errand pair\` for a new one)`,
          );
          if (!phoneOrigin(ctx.origins()).phoneReachable) io.out(loopbackOnlyHint());
        },
      });
    } else if (ctx.store.devices.list().length === 0) {
      // No terminal to show a code on or approve a claim at (a pipe, a login service's log).
      io.out('No phone is paired yet: run `errand pair` in a terminal to show a pairing code.');
    }

    return new Promise<number>((resolve) => {
      const onSignal = (signal: NodeJS.Signals) => {
        stopping.abort();
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
        // A second signal while stopping forces the exit.
        process.once(signal, () => process.exit(1));
        const exit = (code: number) => {
          resolve(code);
          // Everything is flushed and closed; do not wait for stragglers (a peer's half-closed socket).
          setTimeout(() => process.exit(code), 200).unref();
        };
        void stopWithin(() => daemon.stop(signal), STOP_DEADLINE_MS).then((result) => {
          if (result.outcome === 'stopped') return exit(0);
          io.err(
            result.outcome === 'failed'
              ? `errand start: stop failed: ${forTerminal(result.error.message)}`
              : `errand start: stopping took longer than ${STOP_DEADLINE_MS / 1000} s, so the daemon exits now. What it acknowledged is saved; \`errand logs\` shows what was still running.`,
          );
          exit(1);
        });
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
    });
  },
};

/** Less free space than this is a full disk: no task, message or setting can be saved. */
const FULL_DISK_BYTES = 1024 * 1024;

/**
 * A start on a full disk goes on (an existing home opens without writing, and the daemon saves again
 * once there is room), but it says so, naming the place: otherwise the first sign is a failed task.
 */
async function diskFullWarning(home: string): Promise<string | undefined> {
  let free: number;
  try {
    const s = await fs.promises.statfs(home);
    free = s.bavail * s.bsize;
  } catch {
    return undefined; // not measurable here: the writes themselves say "disk full" when it is
  }
  if (free >= FULL_DISK_BYTES) return undefined;
  return `errand start: warning: the disk is full at ${forTerminal(home)} (${Math.floor(free / 1024)} KB free). Errand is running, but it cannot save new work (tasks, messages, settings) until you free some space there; it goes on by itself once there is room.`;
}

/**
 * Under a login service, wait while a daemon started by hand holds the home folder, then take over
 * (exiting 75 would exhaust the service manager's restart limit and nothing would take over); and
 * wait out a full disk the same way. SIGTERM or Ctrl-C while waiting ends the wait: undefined.
 */
async function startWhenHandStartedDaemonStops(
  launch: () => Promise<Daemon>,
  home: string,
  io: CliIO,
): Promise<Daemon | undefined> {
  const stopWaiting = new AbortController();
  const onSignal = () => stopWaiting.abort();
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  try {
    const daemon = await startWhenLockFree(launch, homePaths(home).lock, {
      signal: stopWaiting.signal,
      onWait: (pid) =>
        io.err(
          `errand start: another Errand daemon (process ${pid}) is running with this home folder; the service waits for it to stop, then takes over.`,
        ),
      // Exiting 74 would end in the service manager's give-up, and nothing would start once there is room.
      onDiskFull: () =>
        io.err(
          `errand start: The disk is full at ${forTerminal(home)}, so Errand cannot start yet. Free some space there: the service tries again every ${DISK_FULL_RETRY_MS / 1000} s and starts by itself.`,
        ),
    });
    // A stop asked for while it was starting is still a stop.
    if (daemon && stopWaiting.signal.aborted) {
      await daemon.stop('SIGTERM');
      return undefined;
    }
    return daemon;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}

/** An address the daemon cannot listen on is a configuration error: restarting cannot fix it. */
const EXIT_BAD_ADDRESS = 78;

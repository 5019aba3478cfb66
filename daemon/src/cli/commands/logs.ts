// `errand logs [-f]`: the daemon's log, readably. The log file always works; the systemd journal
// is an alternative when Errand runs as a service.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { homePaths } from '../../config/paths.js';
import { SYSTEMD_UNIT_NAME, serviceState } from '../../service/index.js';
import { followLog, formatLogLine, type LogLevel, levelAtLeast, logFile, readTail } from '../../service/logs.js';
import { childEnv } from '../../service/runner.js';
import type { CliCommand } from '../command.js';
import { forTerminal } from '../terminal-text.js';

export interface LogsCommandDeps {
  /** Ends -f (default: Ctrl-C / SIGTERM). */
  signal?: AbortSignal;
  pollMs?: number;
}

export function makeLogsCommand(deps: LogsCommandDeps = {}): CliCommand {
  return {
    name: 'logs',
    summary: "Show the daemon's log (-f to follow)",
    help: `Usage: errand logs [-f] [-n LINES] [--level LEVEL] [--json] [--journal]

Shows the daemon's log from <home>/logs/daemon.log (and its rotated copies), one readable line
per entry. Secrets are never written to the log. (Under launchd on macOS, anything the daemon
prints before its log opens goes to <home>/logs/service.log.)

Options:
  -f, --follow        keep printing new lines (across log rotation) until Ctrl-C
  -n, --lines N       how many of the last lines to show (default 50; 0 with -f shows only new ones)
  --level LEVEL       only this level and above: debug, info, warn, error
  --json              print the raw JSON lines
  --journal           read the systemd journal instead (when installed with \`errand install\` on Linux)`,
    options: {
      follow: { type: 'boolean', short: 'f' },
      lines: { type: 'string', short: 'n' },
      level: { type: 'string' },
      journal: { type: 'boolean' },
    },
    async run(args, io) {
      const linesArg = args.values.lines === undefined ? '50' : String(args.values.lines);
      const count = Number(linesArg);
      if (!Number.isInteger(count) || count < 0) {
        io.err(
          `errand logs: --lines must be a whole number, like \`errand logs -n 100\` (got "${forTerminal(String(linesArg))}").`,
        );
        return 2;
      }
      const level = args.values.level === undefined ? undefined : String(args.values.level);
      if (level !== undefined && !['debug', 'info', 'warn', 'error'].includes(level)) {
        io.err(`errand logs: --level must be one of debug, info, warn, error (got "${forTerminal(String(level))}").`);
        return 2;
      }
      const follow = Boolean(args.values.follow);
      const json = Boolean(args.values.json);

      if (args.values.journal) {
        const state = await serviceState(args.home, { env: io.env });
        if (state.kind !== 'systemd') {
          io.err('The journal is only used by the systemd service on Linux; run `errand logs` without --journal.');
          return 1;
        }
        const jargs = ['--user', '-u', SYSTEMD_UNIT_NAME, '-n', String(count), '--no-pager', ...(follow ? ['-f'] : [])];
        return new Promise<number>((resolve) => {
          const child = spawn('journalctl', jargs, { stdio: 'inherit', env: childEnv(io.env) });
          child.on('error', (err) => {
            io.err(`Cannot run journalctl (${err.message}); run \`errand logs\` to read the log file.`);
            resolve(1);
          });
          child.on('exit', (code) => resolve(code ?? 0));
        });
      }

      const dir = homePaths(args.home).logs;
      const show = (line: string) => {
        const parsed = formatLogLine(line);
        if (!levelAtLeast(parsed.level, level as LogLevel | undefined)) return;
        io.out(json ? line : parsed.text);
      };

      const tail = readTail(dir, count);
      if (!tail.position && tail.lines.length === 0 && !follow) {
        const state = await serviceState(args.home, { env: io.env });
        io.err(
          `No log yet at ${logFile(dir)}: the daemon writes it once it runs (\`errand start\`, or \`errand install\` for a login service).`,
        );
        if (state.installed && state.kind === 'systemd')
          io.err(
            `The service's own output is in the journal: \`errand logs --journal\` (journalctl --user -u ${SYSTEMD_UNIT_NAME}).`,
          );
        return 1;
      }
      for (const line of tail.lines) show(line);
      if (!follow) return 0;

      if (!fs.existsSync(logFile(dir))) io.err(`Waiting for ${logFile(dir)} to appear (Ctrl-C to stop)…`);
      const controller = new AbortController();
      const stop = () => controller.abort();
      deps.signal?.addEventListener('abort', stop, { once: true });
      if (!deps.signal) {
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      }
      try {
        await followLog(dir, show, { signal: controller.signal, from: tail.position, pollMs: deps.pollMs });
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
      return 0;
    },
  };
}

export const logsCommand = makeLogsCommand();

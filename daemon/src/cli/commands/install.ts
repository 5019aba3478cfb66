// `errand install`: make the daemon a login service (systemd user unit / LaunchAgent).
import fs from 'node:fs';
import { homePaths } from '../../config/paths.js';
import { controlCall } from '../../control/client.js';
import { adviceForFailure, applyPlan, describePlan, planInstall, serviceState } from '../../service/index.js';
import { execRunner, formatCommand, type Runner } from '../../service/runner.js';
import type { CliCommand } from '../command.js';

export interface ServiceCommandDeps {
  run?: Runner;
  platform?: NodeJS.Platform;
  node?: string;
  projectDir?: string;
  uid?: number;
}

export function makeInstallCommand(deps: ServiceCommandDeps = {}): CliCommand {
  return {
    name: 'install',
    summary: 'Run Errand as a login service (systemd on Linux, launchd on macOS)',
    help: `Usage: errand install [--dry-run]

Installs, enables and starts a login service so the daemon starts when you log in and
restarts if it fails (but not after a configuration error or a corrupt store, which need you).
  Linux:  a systemd user unit, ~/.config/systemd/user/errand.service
  macOS:  a LaunchAgent, ~/Library/LaunchAgents/dev.errand.daemon.plist
The service runs this Node (${process.execPath}) and this project's daemon/bin/errand.js.
Running it again updates the service. Remove it with \`errand uninstall\`.

Options:
  --dry-run   print the files and commands without changing anything
  --json      print the plan (and result) as JSON

Note: the service does not see your shell's environment; keep the API key in config.json
(\`anthropic.apiKey\`), not only in ANTHROPIC_API_KEY. A URL with a user name and password
(ANTHROPIC_BASE_URL=http://user:pass@…) is not copied into the service file either, which others
can read: keep it in config.json (\`anthropic.baseUrl\`).`,
    options: { 'dry-run': { type: 'boolean' } },
    async run(args, io) {
      const json = Boolean(args.values.json);
      const planFor = (env: NodeJS.ProcessEnv) =>
        planInstall({
          home: args.home,
          env,
          platform: deps.platform,
          node: deps.node,
          projectDir: deps.projectDir,
          uid: deps.uid,
        });
      const plan = planFor(io.env);
      if (plan.kind === 'none') {
        if (json) io.out(JSON.stringify({ supported: false, notes: plan.notes }, null, 2));
        else io.err(plan.notes.join('\n'));
        return 1;
      }
      if (args.values['dry-run']) {
        if (json) io.out(JSON.stringify({ dryRun: true, ...plan }, null, 2));
        else {
          io.out(`Dry run: nothing was changed. \`errand install\` would do this:\n\n${describePlan(plan)}`);
          // An API key only in this shell is one more thing the service would lack: the notes a real
          // install adds for it belong before the install too.
          const withoutShellKey = planFor({ ...io.env, ANTHROPIC_API_KEY: undefined });
          const keyNotes = plan.notes.filter((n) => !withoutShellKey.notes.includes(n));
          const cautions = [...(plan.cautions ?? []), ...keyNotes];
          if (cautions.length) io.out(`\n${cautions.join('\n')}`);
        }
        return 0;
      }
      // A daemon started by hand holds the home folder's lock; the service would wait for it.
      let foreground = false;
      try {
        await controlCall(homePaths(args.home).socket, 'status', {}, { timeoutMs: 2000 });
        foreground = !io.env.ERRAND_SUPERVISOR;
      } catch {
        /* not running: fine */
      }
      const existedBefore = plan.file ? fs.existsSync(plan.file) : false;
      const previous = await serviceState(args.home, { env: io.env, platform: deps.platform });
      if (previous.installed && previous.servesThisHome === false && !json) {
        io.out(`The login service ran the home folder ${previous.home}; it now runs ${args.home}.`);
      }
      const result = await applyPlan(plan, deps.run ?? execRunner, io.env);
      // Half an install is worse than none: remove a service file this run created.
      if (!result.ok && !existedBefore && plan.file) fs.rmSync(plan.file, { force: true });
      if (json) {
        io.out(
          JSON.stringify(
            {
              ok: result.ok,
              kind: plan.kind,
              file: plan.file,
              failed: result.failed && { ...result.failed, step: describeStep(result.failed.step) },
              warnings: result.warnings,
            },
            null,
            2,
          ),
        );
      }
      if (!result.ok) {
        io.err(
          `Could not install the login service: ${describeStep(result.failed!.step)} failed: ${result.failed!.message}`,
        );
        io.err(adviceForFailure(plan.kind, result.failed!.message));
        if (!existedBefore)
          io.err(
            'Nothing was left installed; `errand install --dry-run` prints the file and commands if you want to set it up by hand.',
          );
        return 1;
      }
      if (!json) {
        io.out(`Installed ${plan.file}`);
        io.out(plan.notes.join('\n'));
        if (foreground) {
          io.out(
            'A daemon you started by hand is running for this home folder: stop it (Ctrl-C in its terminal) and the service takes over.',
          );
        }
      }
      return 0;
    },
  };
}

export function describeStep(step: { kind: string; argv?: string[]; path?: string }): string {
  if (step.kind === 'run' && step.argv) return `\`${formatCommand(step.argv)}\``;
  return `${step.kind} ${step.path ?? ''}`.trim();
}

export const installCommand = makeInstallCommand();

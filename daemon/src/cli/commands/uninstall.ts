// `errand uninstall`: stop and remove the login service. The home folder is kept.
import fs from 'node:fs';
import { adviceForFailure, applyPlan, describePlan, planUninstall } from '../../service/index.js';
import { execRunner, formatCommand, type Runner } from '../../service/runner.js';
import type { CliCommand } from '../command.js';
import { describeStep, type ServiceCommandDeps } from './install.js';

/** What a stop says when there was nothing to stop (no such unit or job, or no systemctl at all). */
const NOTHING_TO_STOP = /does not exist|not loaded|not found|no such process|could not find/i;
/** What it says when the service manager did not answer (systemctl also says "does not exist" then). */
const MANAGER_UNREACHABLE = /bus|XDG_RUNTIME_DIR|not been booted|failed to connect/i;

export function makeUninstallCommand(deps: ServiceCommandDeps = {}): CliCommand {
  return {
    name: 'uninstall',
    summary: 'Stop and remove the login service (keeps your data)',
    help: `Usage: errand uninstall [--dry-run]

Stops the login service, disables it and removes its file (systemd user unit or LaunchAgent).
Your home folder (threads, devices, settings) is kept; run \`errand start\` to use Errand by hand.

Options:
  --dry-run   print the commands without changing anything
  --json      print the result as JSON`,
    options: { 'dry-run': { type: 'boolean' } },
    async run(args, io) {
      const json = Boolean(args.values.json);
      const plan = planUninstall({ env: io.env, platform: deps.platform, uid: deps.uid });
      if (plan.kind === 'none') {
        if (json) io.out(JSON.stringify({ removed: false, notes: plan.notes }, null, 2));
        else io.out(plan.notes.join('\n'));
        return 0;
      }
      if (args.values['dry-run']) {
        if (json) io.out(JSON.stringify({ dryRun: true, ...plan }, null, 2));
        else io.out(`Dry run: nothing was changed. \`errand uninstall\` would do this:\n\n${describePlan(plan)}`);
        return 0;
      }
      const existed = plan.file ? fs.existsSync(plan.file) : false;
      // The first command stops the service (systemctl disable --now, launchctl bootout); it may fail
      // harmlessly (nothing loaded), or because the service manager cannot be reached: then nobody
      // knows whether the service still runs, and this must not say it is stopped.
      const stop = plan.steps.find((s) => s.kind === 'run');
      let stopFailure: string | undefined;
      const run: Runner = async (command, commandArgs, opts) => {
        const r = await (deps.run ?? execRunner)(command, commandArgs, opts);
        if (
          stop?.kind === 'run' &&
          r.code !== 0 &&
          formatCommand([command, ...commandArgs]) === formatCommand(stop.argv)
        )
          stopFailure =
            (r.stderr || r.stdout)
              .trim()
              .split(/\s*\n\s*/)
              .join('; ') || `exit code ${r.code}`;
        return r;
      };
      const result = await applyPlan(plan, run, io.env);
      const stopUnknown =
        stopFailure !== undefined && (MANAGER_UNREACHABLE.test(stopFailure) || !NOTHING_TO_STOP.test(stopFailure));
      if (json)
        io.out(
          JSON.stringify(
            { ok: result.ok, removed: existed, stopped: !stopUnknown, file: plan.file, warnings: result.warnings },
            null,
            2,
          ),
        );
      if (!result.ok) {
        io.err(
          `Could not remove the login service: ${describeStep(result.failed!.step)} failed: ${result.failed!.message}`,
        );
        io.err(adviceForFailure(plan.kind, result.failed!.message));
        return 1;
      }
      if (!json) {
        if (existed) io.out(`Removed ${plan.file}\n${plan.notes.join('\n')}`);
        else
          io.out(
            `No login service was installed (${plan.file} did not exist)${stopUnknown ? '' : '; made sure it is stopped'}. Your home folder is untouched.`,
          );
      }
      if (stopUnknown && stop?.kind === 'run') {
        const manager = plan.kind === 'systemd' ? 'systemd' : 'launchd';
        io.err(
          `Could not reach ${manager} to stop the login service (${stopFailure}), so whether it still runs is not known. ` +
            `In a desktop session (where ${manager} answers), run \`${formatCommand(stop.argv)}\` to make sure it is stopped.`,
        );
        // Its file is gone but it may still run: not done. With nothing installed there is nothing to undo.
        return existed ? 1 : 0;
      }
      return 0;
    },
  };
}

export const uninstallCommand = makeUninstallCommand();

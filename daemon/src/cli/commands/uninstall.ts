// `errand uninstall`: stop and remove the login service. The home folder is kept.
import fs from 'node:fs';
import { adviceForFailure, applyPlan, describePlan, planUninstall } from '../../service/index.js';
import { execRunner } from '../../service/runner.js';
import type { CliCommand } from '../command.js';
import { describeStep, type ServiceCommandDeps } from './install.js';

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
      const result = await applyPlan(plan, deps.run ?? execRunner, io.env);
      if (json)
        io.out(
          JSON.stringify({ ok: result.ok, removed: existed, file: plan.file, warnings: result.warnings }, null, 2),
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
            `No login service was installed (${plan.file} did not exist); made sure it is stopped. Your home folder is untouched.`,
          );
      }
      return 0;
    },
  };
}

export const uninstallCommand = makeUninstallCommand();

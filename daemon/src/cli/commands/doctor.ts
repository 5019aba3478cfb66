// `errand doctor`: what is wrong, and the fix for each.
import { type DoctorOptions, formatChecks, runDoctor } from '../../doctor/index.js';
import type { CliCommand } from '../command.js';
import { forTerminal } from '../terminal-text.js';

export type DoctorCommandDeps = Omit<DoctorOptions, 'home' | 'env'>;

export function makeDoctorCommand(deps: DoctorCommandDeps = {}): CliCommand {
  return {
    name: 'doctor',
    summary: 'Check the setup and say how to fix what is wrong',
    help: `Usage: errand doctor [--json]

Checks, without changing anything: the home folder can be written to, the daemon is running
(when it is not: that its port is free and \`bind\` is an address of this computer, as \`errand start\`
needs), the login service is installed, an API key is set, the model endpoint answers (unknown when
offline), the allowed folders exist, the shell sandbox works, the phone has a secure (HTTPS)
address, push keys exist, connectors are healthy, the store journal is whole, the store files
start reads (devices.json, push.json, vapid.json) are valid, and there is disk space. Each line
says ok, WARN, FAIL or ?? and the fix.

Exits with 1 when any check fails (warnings do not), so scripts can use it.

Options:
  --json   print the checks as JSON: { ok, home, checks: [{ id, title, status, detail, fix }] }`,
    async run(args, io) {
      const checks = await runDoctor({ ...deps, home: args.home, env: io.env });
      const ok = !checks.some((c) => c.status === 'fail');
      if (args.values.json) io.out(JSON.stringify({ ok, home: args.home, checks }, null, 2));
      else {
        // What a check found can quote anything (a key of config.json, a folder's name, a connector's
        // error): shown with control characters made visible, so none of it acts on the terminal.
        const shown = checks.map((c) => ({
          ...c,
          title: forTerminal(c.title),
          detail: forTerminal(c.detail),
          ...(c.fix === undefined ? {} : { fix: forTerminal(c.fix) }),
        }));
        io.out(formatChecks(shown, forTerminal(args.home)));
      }
      return ok ? 0 : 1;
    },
  };
}

export const doctorCommand = makeDoctorCommand();

// `errand status`: what the running daemon is doing.
import { type ServiceState, serviceState } from '../../service/index.js';
import type { CliCommand } from '../command.js';
import { ago, callDaemon } from '../daemon-client.js';
import { forTerminal } from '../terminal-text.js';

export const statusCommand: CliCommand = {
  name: 'status',
  summary: 'Show whether the daemon runs, where to reach it, devices and tasks',
  help: `Usage: errand status [--json]

Shows the running daemon's version, uptime, the URLs a phone can use, paired devices, running
tasks, roots, connectors and whether the shell sandbox and keep-awake are on.`,
  async run(args, io) {
    const s = await callDaemon(io, args.home, 'status');
    if (s === undefined) return 1;
    const service = await serviceState(args.home, { env: io.env });
    if (args.values.json === true) {
      io.out(JSON.stringify({ ...s, service }, null, 2));
      return 0;
    }
    const uptime = Math.round((Date.now() - s.startedAt) / 1000);
    // Only what the socket serves now; what the configuration adds since the start needs a restart.
    const served = s.listening ?? s.origins;
    const pending = s.origins.filter((o) => !served.includes(o));
    // Names and paths come from config.json, the folders on disk and connectors: escapes in them are shown, not run.
    const roots = s.roots.map((r) => forTerminal(r.path) + (r.exists ? '' : ' (missing)'));
    const connectors = s.connectors.map((c) => `${forTerminal(c.name)} (${forTerminal(c.status)})`);
    io.out(
      [
        `Errand ${s.version} running (pid ${s.pid}, up ${uptime < 120 ? `${uptime}s` : `${Math.round(uptime / 60)} min`}) on ${forTerminal(s.name)}`,
        `Home:      ${forTerminal(s.home)}`,
        `Service:   ${describeService(service)}`,
        `Reach it:  ${served.join('  ')}`,
        ...(pending.length ? [`           after a restart also: ${pending.join('  ')}`] : []),
        `Model:     ${forTerminal(s.model)}${s.apiKeyConfigured ? '' : '  (no API key set: tasks will fail)'}`,
        `Tasks:     ${s.runningTasks} running, ${s.queuedTasks} queued${s.keepAwake ? ' (keeping the computer awake)' : ''}`,
        ...(s.spend
          ? [
              `Spend:     $${s.spend.todayUsd.toFixed(2)} today${s.spend.dailyCapUsd ? ` of $${s.spend.dailyCapUsd.toFixed(2)}` : ''}, $${s.spend.monthUsd.toFixed(2)} this month${s.spend.monthlyCapUsd ? ` of $${s.spend.monthlyCapUsd.toFixed(2)}` : ''}`,
              ...(s.spend.blocked ? [`           ${s.spend.blocked}`] : []),
            ]
          : []),
        `Sandbox:   ${s.sandbox.enabled ? 'on' : `off${s.sandbox.reason ? ` (${forTerminal(s.sandbox.reason)})` : ''}`}`,
        `Roots:     ${roots.join(', ') || 'none'}`,
        `Connectors: ${connectors.join(', ') || 'none'}`,
        `Devices:   ${s.devices.length ? s.devices.map((d) => `${forTerminal(d.name)}${d.online ? ' (online)' : `, seen ${ago(d.lastSeenAt)}`}`).join('; ') : 'none paired (run `errand pair`)'}`,
      ].join('\n'),
    );
    return 0;
  },
};

function describeService(s: ServiceState): string {
  if (s.kind === 'none') return 'login service not supported on this platform (run `errand start` yourself)';
  if (!s.installed) return `not installed (\`errand install\` runs Errand at login)`;
  return `${s.kind} login service installed${s.servesThisHome === false ? ` for another home folder (${forTerminal(s.home ?? '')})` : ''}`;
}

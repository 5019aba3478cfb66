// Every CLI command, in the order `errand --help` lists them. Each is loaded only when used, so
// `errand start` does not pay for the doctor's or the installer's code.
import type { CliCommand } from './command.js';

export interface CommandEntry {
  name: string;
  load: () => Promise<CliCommand>;
}

export const COMMANDS: CommandEntry[] = [
  { name: 'start', load: async () => (await import('./commands/start.js')).startCommand },
  { name: 'pair', load: async () => (await import('./commands/pair.js')).pairCommand },
  { name: 'devices', load: async () => (await import('./commands/devices.js')).devicesCommand },
  { name: 'status', load: async () => (await import('./commands/status.js')).statusCommand },
  { name: 'roots', load: async () => (await import('./commands/roots.js')).rootsCommand },
  { name: 'allow', load: async () => (await import('./commands/allow.js')).allowCommand },
  { name: 'disallow', load: async () => (await import('./commands/disallow.js')).disallowCommand },
  { name: 'connectors', load: async () => (await import('./commands/connectors.js')).connectorsCommand },
  { name: 'trash', load: async () => (await import('./commands/trash.js')).trashCommand },
  { name: 'push', load: async () => (await import('./commands/push.js')).pushCommand },
  { name: 'memory', load: async () => (await import('./commands/memory.js')).memoryCommand },
  { name: 'schedules', load: async () => (await import('./commands/schedules.js')).schedulesCommand },
  { name: 'install', load: async () => (await import('./commands/install.js')).installCommand },
  { name: 'uninstall', load: async () => (await import('./commands/uninstall.js')).uninstallCommand },
  { name: 'logs', load: async () => (await import('./commands/logs.js')).logsCommand },
  { name: 'expose', load: async () => (await import('./commands/expose.js')).exposeCommand },
  { name: 'doctor', load: async () => (await import('./commands/doctor.js')).doctorCommand },
  { name: 'repair', load: async () => (await import('./commands/repair.js')).repairCommand },
];

// Every CLI command, in the order `errand --help` lists them.
import type { CliCommand } from './command.js';
import { allowCommand } from './commands/allow.js';
import { connectorsCommand } from './commands/connectors.js';
import { devicesCommand } from './commands/devices.js';
import { disallowCommand } from './commands/disallow.js';
import { doctorCommand } from './commands/doctor.js';
import { exposeCommand } from './commands/expose.js';
import { installCommand } from './commands/install.js';
import { logsCommand } from './commands/logs.js';
import { pairCommand } from './commands/pair.js';
import { pushCommand } from './commands/push.js';
import { rootsCommand } from './commands/roots.js';
import { startCommand } from './commands/start.js';
import { statusCommand } from './commands/status.js';
import { trashCommand } from './commands/trash.js';
import { uninstallCommand } from './commands/uninstall.js';

export const COMMANDS: CliCommand[] = [
  startCommand, pairCommand, devicesCommand, statusCommand,
  rootsCommand, allowCommand, disallowCommand, connectorsCommand, trashCommand,
  pushCommand, installCommand, uninstallCommand, logsCommand, exposeCommand, doctorCommand,
];

// Every CLI command, in the order `errand --help` lists them.
import type { CliCommand } from './command.js';
import { devicesCommand } from './commands/devices.js';
import { pairCommand } from './commands/pair.js';
import { startCommand } from './commands/start.js';
import { statusCommand } from './commands/status.js';

export const COMMANDS: CliCommand[] = [startCommand, pairCommand, devicesCommand, statusCommand];

// What a command handler knows about who sent the command. Beneath every module, like CommandError, so
// modules register handlers without importing server/.
import type { Device } from '../../../shared/src/index.js';

export interface CommandContext {
  device: Omit<Device, 'online'>;
  address: string | undefined;
  connectionId: string;
}

// Commands that read a whole file or stored output into memory (task.file reads up to 50 MB) run a
// few at a time in the whole daemon; the others wait their turn. So the memory they hold stays
// bounded however many are sent, from however many sockets. Waiting devices take turns, so one
// device's pile of reads does not hold up another device's one.
import type { CommandType } from '../../../shared/src/index.js';

export const HEAVY_READ_COMMANDS: ReadonlySet<CommandType> = new Set<CommandType>([
  'task.file',
  'task.diff',
  'step.output',
]);

/** Heavy reads running at once in the daemon. */
export const HEAVY_READ_SLOTS = 2;

export class HeavyReads {
  private running = 0;
  /** Waiting reads by device, in the order devices started waiting (the next turn goes to the first). */
  private waiting = new Map<string, Array<() => void>>();

  constructor(private readonly slots = HEAVY_READ_SLOTS) {}

  /** Runs `read` once a slot is free, and frees the slot when it settles. */
  async run<R>(deviceId: string, read: () => Promise<R>): Promise<R> {
    if (this.running >= this.slots) await new Promise<void>((resolve) => this.enqueue(deviceId, resolve));
    else this.running++;
    try {
      return await read();
    } finally {
      this.release();
    }
  }

  private enqueue(deviceId: string, start: () => void): void {
    const queue = this.waiting.get(deviceId);
    if (queue) queue.push(start);
    else this.waiting.set(deviceId, [start]);
  }

  /** Hands the freed slot to the next device in turn (the slot stays taken), or frees it. */
  private release(): void {
    const next = this.waiting.entries().next();
    if (next.done) {
      this.running--;
      return;
    }
    const [deviceId, queue] = next.value;
    const start = queue.shift()!;
    // This device goes to the back of the line; it leaves it when it has nothing more waiting.
    this.waiting.delete(deviceId);
    if (queue.length) this.waiting.set(deviceId, queue);
    start();
  }
}

// Commands that read a whole file or stored output into memory (task.file reads up to 50 MB) run a
// few at a time in the whole daemon; the others wait their turn. So the memory they hold stays
// bounded however many are sent, from however many sockets. Waiting devices take turns, so one
// device's pile of reads does not hold up another device's one. A read still waiting when its
// connection closes is dropped: nobody is left to get its answer, and a device reconnecting in a
// loop would otherwise pile up work that outlives every socket.
import type { CommandType } from '../../../shared/src/index.js';
import { CommandError } from '../util/command-error.js';

export const HEAVY_READ_COMMANDS: ReadonlySet<CommandType> = new Set<CommandType>([
  'task.file',
  'task.diff',
  'step.output',
]);

/** Heavy reads running at once in the daemon. */
export const HEAVY_READ_SLOTS = 2;

/** The refusal a read gets when its connection closed before its turn came (nobody sees it; said for logs and tests). */
const DROPPED = 'The connection closed before this read started; connect again and send it again.';

export class HeavyReads {
  private running = 0;
  /** Waiting reads by device, in the order devices started waiting (the next turn goes to the first). */
  private waiting = new Map<string, Array<() => void>>();

  constructor(private readonly slots = HEAVY_READ_SLOTS) {}

  /**
   * Runs `read` once a slot is free, and frees the slot when it settles. When `signal` aborts
   * (the connection closed) before its turn, it never runs and rejects; one already running finishes.
   */
  async run<R>(deviceId: string, read: () => Promise<R>, signal?: AbortSignal): Promise<R> {
    if (signal?.aborted) throw new CommandError('unavailable', DROPPED);
    if (this.running >= this.slots) await this.turn(deviceId, signal);
    else this.running++;
    try {
      return await read();
    } finally {
      this.release();
    }
  }

  /** Resolves when a freed slot is handed to this read; rejects if `signal` aborts first. */
  private turn(deviceId: string, signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const start = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => {
        this.remove(deviceId, start);
        reject(new CommandError('unavailable', DROPPED));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.enqueue(deviceId, start);
    });
  }

  private enqueue(deviceId: string, start: () => void): void {
    const queue = this.waiting.get(deviceId);
    if (queue) queue.push(start);
    else this.waiting.set(deviceId, [start]);
  }

  /** Takes a dropped read out of its device's line (the device leaves the line when nothing of it waits). */
  private remove(deviceId: string, start: () => void): void {
    const queue = this.waiting.get(deviceId);
    const at = queue?.indexOf(start) ?? -1;
    if (!queue || at < 0) return;
    queue.splice(at, 1);
    if (!queue.length) this.waiting.delete(deviceId);
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

// Replies to state-changing commands, remembered by (device, command id) so a re-sent command
// (after a reconnect, or from the phone's outbox after an app restart) has the effect of once.
import path from 'node:path';
import type { Low } from 'lowdb';
import { z } from 'zod';
import { openDoc, zodValidator } from './doc.js';

const Entry = z.object({ key: z.string(), at: z.number(), ok: z.boolean(), result: z.unknown() });
const CommandsDoc = z.object({ schema: z.literal(1), entries: z.array(Entry) });
type CommandsDoc = z.infer<typeof CommandsDoc>;
export type RememberedReply = { ok: boolean; result: unknown };

const LIMIT = 2000;

export class CommandLog {
  private index = new Map<string, RememberedReply>();
  private inflight = new Map<string, Promise<RememberedReply>>();
  private constructor(private readonly db: Low<CommandsDoc>) {
    for (const e of db.data.entries) this.index.set(e.key, { ok: e.ok, result: e.result });
  }

  static async open(dir: string): Promise<CommandLog> {
    const db = await openDoc<CommandsDoc>({
      file: path.join(dir, 'commands.json'),
      version: 1,
      validate: zodValidator(CommandsDoc),
      initial: () => ({ schema: 1, entries: [] }),
      keepBackup: false,
    });
    return new CommandLog(db);
  }

  /**
   * Run `fn` once per key. A key seen before returns the remembered reply; a key still running
   * returns the same promise. The reply is durable before it is returned.
   */
  async once(key: string, fn: () => Promise<RememberedReply>): Promise<RememberedReply> {
    const known = this.index.get(key);
    if (known) return known;
    const running = this.inflight.get(key);
    if (running) return running;
    const p = (async () => {
      const reply = await fn();
      this.index.set(key, reply);
      this.db.data.entries.push({ key, at: Date.now(), ...reply });
      if (this.db.data.entries.length > LIMIT) {
        for (const old of this.db.data.entries.splice(0, this.db.data.entries.length - LIMIT))
          this.index.delete(old.key);
      }
      await this.db.write();
      return reply;
    })();
    this.inflight.set(key, p);
    try {
      return await p;
    } finally {
      this.inflight.delete(key);
    }
  }
}

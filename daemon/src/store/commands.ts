// Replies to state-changing commands, remembered per device by command id so a re-sent command
// (after a reconnect, or from the phone's outbox after an app restart) has the effect of once.
// The reply is an op in the same journal record as the command's effect and events: after a crash
// there is all of it or none of it. With it goes the command's fingerprint, so an id reused for a
// different command is refused rather than answered with another command's reply.
import type { Journal } from './journal.js';
import { DiskFullError } from './journal.js';

export type RememberedReply = { ok: boolean; result: unknown };
/** A reply and the fingerprint of the command it answers (none in records written before fingerprints). */
type Remembered = RememberedReply & { h?: string };
interface ReplyOp extends Remembered {
  device: string;
  id: string;
}

/** Replies kept per device. */
export const REPLIES_PER_DEVICE = 2000;
export const REPLY_OP = 'reply';

/** The answer to an id already used for a different command: nothing runs, nothing is remembered. */
export const ID_REUSED: RememberedReply = {
  ok: false,
  result: { code: 'conflict', message: 'This id was already used for a different command; send it with a new id.' },
};

/** Whether a command with fingerprint `h` is not the one remembered (a reply without one, from an older store, matches any). */
const differs = (remembered: string | undefined, h: string | undefined) =>
  remembered !== undefined && h !== undefined && remembered !== h;

export class CommandLog {
  /** device → (command id → reply), oldest first (Map keeps insertion order). */
  private byDevice = new Map<string, Map<string, Remembered>>();
  private inflight = new Map<string, { reply: Promise<RememberedReply>; h?: string }>();

  constructor(private readonly journal: Journal) {
    journal.register(REPLY_OP, {
      apply: (d) => this.remember(d as ReplyOp),
      snapshot: () => {
        const out: ReplyOp[] = [];
        for (const [device, m] of this.byDevice)
          for (const [id, r] of m) out.push({ device, id, ok: r.ok, result: r.result, ...(r.h ? { h: r.h } : {}) });
        return out;
      },
      restore: (d) => {
        for (const r of d as ReplyOp[]) this.remember(r);
      },
    });
  }

  private remember(r: ReplyOp): void {
    let m = this.byDevice.get(r.device);
    if (!m) {
      m = new Map();
      this.byDevice.set(r.device, m);
    }
    m.set(r.id, { ok: r.ok, result: r.result, ...(r.h ? { h: r.h } : {}) });
    if (m.size > REPLIES_PER_DEVICE) m.delete(m.keys().next().value!);
  }

  /** For the migration: a reply remembered by an older store. */
  adopt(device: string, id: string, reply: RememberedReply): void {
    this.remember({ device, id, ...reply });
  }

  /** The remembered reply to a device's command, if any. */
  get(device: string, id: string): RememberedReply | undefined {
    const r = this.byDevice.get(device)?.get(id);
    return r && { ok: r.ok, result: r.result };
  }

  count(device: string): number {
    return this.byDevice.get(device)?.size ?? 0;
  }

  /**
   * Run `fn` once per (device, id). An id seen before returns the remembered reply; one still
   * running returns the same promise. `fn` runs as one journal transaction whose record also holds
   * the reply, so the reply is durable before it is returned. A record that cannot be written
   * (disk full) gives an `unavailable` reply that is not remembered, and so does a refusal that
   * changed nothing (no op, no event): the same id sent again runs again. `h` is the command's
   * fingerprint (server/command-fingerprint.ts): the same id with a different one gets ID_REUSED.
   */
  async once(device: string, id: string, fn: () => Promise<RememberedReply>, h?: string): Promise<RememberedReply> {
    const known = this.byDevice.get(device)?.get(id);
    if (known) return differs(known.h, h) ? ID_REUSED : { ok: known.ok, result: known.result };
    const key = `${device}\u0000${id}`;
    const running = this.inflight.get(key);
    if (running) return differs(running.h, h) ? ID_REUSED : running.reply;
    const p = (async (): Promise<RememberedReply> => {
      try {
        let kept = false;
        const reply = await this.journal.transaction(
          fn,
          (tx, reply) => {
            // A refusal that changed nothing is not remembered: sent again (a Retry once the thread
            // is restored, once there is room on the disk) it runs again, which is still once.
            kept = !!reply && (reply.ok || tx.ops.length > 0 || tx.events.length > 0);
            if (reply && kept)
              tx.add({
                t: REPLY_OP,
                d: { device, id, ok: reply.ok, result: reply.result, ...(h ? { h } : {}) } satisfies ReplyOp,
              });
          },
          { undoable: true },
        );
        if (kept) this.remember({ device, id, ...reply, h });
        return reply;
      } catch (err) {
        if (err instanceof DiskFullError)
          return {
            ok: false,
            result: {
              code: 'unavailable',
              message: `The host could not save this: ${err.message}. Free some space, then send it again.`,
            },
          };
        // Not written (the host is stopping, or the disk failed): nothing is acknowledged or remembered.
        return {
          ok: false,
          result: { code: 'unavailable', message: 'The host could not save this; send it again in a moment.' },
        };
      }
    })();
    this.inflight.set(key, { reply: p, h });
    try {
      return await p;
    } finally {
      this.inflight.delete(key);
    }
  }
}

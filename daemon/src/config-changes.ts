// A phone's config command (spend.set, web.set) takes effect once, and its host.updated event is
// published once, across a kill -9 at any point.
//
// The setting lives in config.json, which the person may edit and which start reads; the command's
// reply and event go in a journal record written after it. A kill between the two kept the change
// and lost the reply. The phone's outbox then sent the command again, it ran again and wrote over a
// later change another device had made and been told of (a lowered cap raised again, web fetch
// turned back on).
//
// So, as for a device rename (device-changes.ts), the change is committed together with what it
// owes its sender: store/config-owed.json (config/owed-config-change.ts) notes the command (device, id,
// fingerprint, the keys it sets, and config.json's settings just before) durably BEFORE config.json
// is written. The journal record is the payment: the reply kept for a resend, and the event. Paid
// once:
//   - by the command's own record; once the journal remembers the reply, the note is dropped;
//   - if that record was lost, at the next start (before the server listens), or by the resend if
//     that start could not pay it: one record with the reply and the event. CommandLog.once writes
//     it only when the journal holds no reply to that command, so a record that did get written is
//     never paid twice, and a noted change whose reply was journaled is never applied again.
// A noted change config.json does not hold yet (the kill came between the two writes) is rolled
// forward first, only while config.json is still exactly as it was before it: a change made since
// (another command, the person's own edit while Errand was down) is never written over.
// The reply and the event are made when paid, from the configuration then: the host status part
// (`{spend}`, `{web}`) with today's figures. Paid at start, that is the config the change made.
// A full disk changes nothing (config/update-from-command.ts): the answer is `unavailable`.
import type { HostStatus } from '../../shared/src/index.js';
import {
  type ConfigEdit,
  moveAsideOwedConfigChanges,
  type OwedConfigChange,
  owedConfigFile,
  readOwedConfigChanges,
  writeOwedConfigChanges,
} from './config/owed-config-change.js';
import { rollForward, updateConfigFromCommand } from './config/update-from-command.js';
import type { DaemonContext } from './context.js';
import type { Sender } from './device-changes.js';
import { ID_REUSED } from './store/commands.js';
import type { Store } from './store/index.js';
import { CommandError } from './util/command-error.js';

/** What a config command uses: the home, the journal and its replies, config reload, status, events. */
export type ConfigCommandDeps = Pick<DaemonContext, 'paths' | 'reloadConfig' | 'status' | 'emit' | 'log'> & {
  store: Pick<Store, 'commands' | 'journal'>;
};
type Part = OwedConfigChange['part'];
export type PartReply<P extends Part> = { [K in P]: HostStatus[K] };

const unpaidIn = (ctx: ConfigCommandDeps) => (o: OwedConfigChange) =>
  ctx.store.commands.get(o.device, o.id) === undefined;

/** Drop the debts the journal now holds the replies of (run after the command's record is written). */
function dropPaid(ctx: ConfigCommandDeps): void {
  const file = owedConfigFile(ctx.paths.store);
  try {
    const { owed, problem } = readOwedConfigChanges(file);
    if (problem) return; // moved aside by the next command or start, never written over
    const left = owed.filter(unpaidIn(ctx));
    if (left.length < owed.length) writeOwedConfigChanges(file, left);
  } catch (err) {
    // Left behind, a paid debt is dropped by the next command's note or the next start.
    ctx.log.warn('config-owed.json not updated', { error: (err as Error).message });
  }
}

/** The reply and the host.updated event a change owes, from the configuration now; inside its record. */
async function pay<P extends Part>(ctx: ConfigCommandDeps, part: P): Promise<PartReply<P>> {
  const status = ctx.status();
  await ctx.emit({ kind: 'host.updated', status });
  ctx.store.journal.afterCommit(() => dropPaid(ctx));
  return { [part]: status[part] } as PartReply<P>;
}

/** Run a phone's config command once: make the change, or pay what a kill left owed for this very command. */
export async function changeConfigOnce<P extends Part>(
  ctx: ConfigCommandDeps,
  by: Sender,
  part: P,
  edits: ConfigEdit[],
): Promise<PartReply<P>> {
  const file = owedConfigFile(ctx.paths.store);
  const owed = readOwedConfigChanges(file).owed.find((o) => o.device === by.device && o.id === by.id);
  if (owed) {
    if (owed.h !== undefined && by.h !== undefined && owed.h !== by.h)
      throw new CommandError('conflict', (ID_REUSED.result as { message: string }).message);
    // Start could not roll it forward (a full disk then): config.json unchanged since, so it is done now.
    if (rollForward(ctx.paths.home, owed)) ctx.reloadConfig();
    return pay(ctx, owed.part as P);
  }
  updateConfigFromCommand(ctx.paths.home, edits, {
    file,
    owed: { device: by.device, id: by.id, ...(by.h ? { h: by.h } : {}), part },
    unpaid: unpaidIn(ctx),
    warn: (text) => ctx.log.warn(text),
  });
  ctx.reloadConfig();
  return pay(ctx, part);
}

/**
 * At start, after the modules (their status parts make the event) and before the server listens (no
 * command runs meanwhile): roll forward and pay what a kill left owed. Never throws: what cannot be
 * done now waits for the resend or the next start.
 */
export async function payOwedConfigChanges(ctx: ConfigCommandDeps): Promise<void> {
  const file = owedConfigFile(ctx.paths.store);
  try {
    const read = readOwedConfigChanges(file);
    if (read.problem)
      ctx.log.warn(
        `${file} was damaged (${read.problem}); moved to ${moveAsideOwedConfigChanges(file)}. A phone's spending or web setting sent just before a crash and sent again may apply again.`,
      );
    const unpaid = read.owed.filter(unpaidIn(ctx));
    const onDisk: OwedConfigChange[] = [];
    let rolled = false;
    for (const o of unpaid) {
      try {
        rolled = rollForward(ctx.paths.home, o) || rolled;
        onDisk.push(o);
      } catch (err) {
        ctx.log.warn('a config change noted before a crash could not be written yet', {
          error: (err as Error).message,
        });
      }
    }
    if (rolled) ctx.reloadConfig();
    for (const o of onDisk) {
      const r = await ctx.store.commands.once(
        o.device,
        o.id,
        async () => ({ ok: true, result: await pay(ctx, o.part) }),
        o.h,
      );
      if (!r.ok) ctx.log.warn('a config change is not published yet', { part: o.part, device: o.device });
    }
    dropPaid(ctx);
  } catch (err) {
    ctx.log.error('config changes owed at start not settled', { error: (err as Error).message });
  }
}

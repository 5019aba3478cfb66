// Renaming and revoking a device: each takes effect once, and its event is published once, across a
// kill -9 at any point.
//
// The device list is devices.json (store/devices.ts), read by the token check; the command's reply
// and event go in a journal record written after it. A kill between the two kept the change and lost
// the reply and the event. The phone's outbox then sent the command again: a rename ran a second
// time, over another device's acknowledged rename; a revoke answered "No such device", and phones
// never heard of it.
//
// Why not make the journal the commit point (a device op folded into devices.json): a revoke would
// then be real only once its record is durable, while devices.json, which the token check, push and
// `errand doctor` read at start, is a copy to bring up to date after every crash; a revoked token
// working again after some kill would hide in that gap. Here instead the devices.json write is the
// commit point, and it holds all the change means: the new list, and what the command owes its
// sender (its reply, and that its event is due). A revoke holds from the moment that write is on
// disk, whatever follows. The journal record is the payment: the reply kept for a resend, and the
// event. The debt is paid once:
//   - by the command's own record; once the journal remembers the reply, the debt is dropped;
//   - if that record was lost, at the next start, or by the resend if it comes first: one record
//     with the first reply and the event. CommandLog.once writes it only when the journal holds no
//     reply to that command, so a record that did get written is never paid twice.
// The event is made when it is published, from the device as it is then: a late rename event never
// puts back a name another device changed since.
// The CLI's calls get a command id of their own, so their events are paid the same way.
// A devices.json write that fails (a full disk) changes nothing, in memory either (store/devices.ts):
// the command is answered `unavailable`, saying so, and nothing is revoked, closed or published.
import crypto from 'node:crypto';
import type { Device, ServerEvent } from '../../shared/src/index.js';
import type { DaemonContext } from './context.js';
import { commandFingerprint } from './server/command-fingerprint.js';
import type { Gateway } from './server/gateway.js';
import { ID_REUSED, type RememberedReply } from './store/commands.js';
import { type OwedChange, publicDevice } from './store/devices.js';
import { DiskFullError } from './store/journal.js';
import { CommandError } from './util/command-error.js';
import { stripControl } from './util/text.js';

/** Who asked: a phone's command (its device and id), or the CLI. */
export interface Sender {
  device: string;
  id: string;
  /** The command's fingerprint, so the reply kept for it refuses an id reused for another command. */
  h?: string;
}

/** The sender the CLI's calls are remembered under (no device id looks like it). */
const CLI_SENDER = 'cli';
/** A device paired this long ago whose token was never used: nobody holds it (its reply was lost). */
export const UNCONFIRMED_FORGOTTEN_MS = 24 * 60 * 60_000;
const NO_SUCH_DEVICE = 'No such device (it may have been revoked already); the device list shows the paired ones.';

/** A change devices.json could not take: said as the journal says it (commands.ts), not as an internal error. */
async function saved<T>(write: Promise<T>): Promise<T> {
  try {
    return await write;
  } catch (err) {
    if (err instanceof DiskFullError)
      throw new CommandError(
        'unavailable',
        `The host could not save this: ${err.message}. Nothing was changed; free some space, then send it again.`,
      );
    throw err;
  }
}

export const senderOf = (cmd: { id: string; type: string }, device: string): Sender => ({
  device,
  id: cmd.id,
  h: commandFingerprint(cmd),
});

export function deviceChanges(ctx: DaemonContext, gateway: Gateway) {
  const { store } = ctx;
  const view = (id: string) => {
    const d = store.devices.get(id);
    return d && publicDevice(d, gateway.online(d.id));
  };

  /** Drop the debts the journal now holds the replies of (written after the command's record). */
  const dropPaid = () =>
    store.devices
      .settle((o) => store.commands.get(o.device, o.id) !== undefined)
      .catch((err) => ctx.log.warn('devices.json not updated', { error: (err as Error).message }));

  /** The event a change owes, made now; none for a rename of a device revoked since (its revoke said so). */
  const eventOf = (o: OwedChange): ServerEvent | undefined => {
    if (o.change === 'revoke') return { kind: 'device.revoked', deviceId: o.target };
    const now = view(o.target);
    return now && { kind: 'device.updated', device: now };
  };

  /** Publish a change's event and give its first reply (inside the record that remembers the reply). */
  const pay = async (o: OwedChange) => {
    const event = eventOf(o);
    if (event) await ctx.emit(event);
    store.journal.afterCommit(() => void dropPaid());
    return o.reply;
  };

  /** Debts a kill left (their record lost), paid at start: a resend may come first and pay its own. */
  const payLeftDebts = async () => {
    for (const o of store.devices.owed()) {
      const r = await store.commands.once(o.device, o.id, async () => ({ ok: true, result: await pay(o) }), o.h);
      if (!r.ok) ctx.log.warn('a device change is not published yet', { change: o.change, device: o.target });
    }
    await dropPaid();
    for (const d of await store.devices.forgetUnconfirmed(Date.now() - UNCONFIRMED_FORGOTTEN_MS))
      ctx.log.info('device never used, forgotten', { device: d.id });
  };
  const ready = payLeftDebts().catch((err) =>
    ctx.log.error('device changes not settled at start', { error: (err as Error).message }),
  );

  /**
   * The change this very command made before a kill cut off its record; an id reused for another
   * command is refused. Not after `ready`: paying at start waits for this command when it is
   * already running (CommandLog.once), and events are made from the device as it is, in any order.
   */
  const owedTo = (by: Sender) => {
    const owed = store.devices.owedTo(by.device, by.id);
    if (owed && owed.h !== by.h) throw new CommandError('conflict', (ID_REUSED.result as { message: string }).message);
    return owed;
  };

  const rename = async (by: Sender, deviceId: string, name: string): Promise<Device> => {
    const owed = owedTo(by);
    if (owed) return (await pay(owed)) as Device;
    const clean = stripControl(name).trim().slice(0, 80);
    if (!clean) throw new CommandError('bad_request', 'A device name needs at least one visible character.');
    const d = store.devices.get(deviceId);
    if (!d) throw new CommandError('not_found', NO_SUCH_DEVICE);
    const reply = publicDevice({ ...d, name: clean }, gateway.online(d.id));
    await saved(store.devices.rename(deviceId, clean, { ...by, change: 'rename', target: deviceId, reply }));
    await ctx.emit({ kind: 'device.updated', device: reply });
    store.journal.afterCommit(() => void dropPaid());
    return reply;
  };

  const revoke = async (by: Sender, deviceId: string): Promise<{ revoked: string }> => {
    const owed = owedTo(by);
    if (owed) return (await pay(owed)) as { revoked: string };
    const reply = { revoked: deviceId };
    const removed = await saved(store.devices.remove(deviceId, { ...by, change: 'revoke', target: deviceId, reply }));
    if (!removed) throw new CommandError('not_found', NO_SUCH_DEVICE);
    gateway.revoke(deviceId);
    await ctx.emit({ kind: 'device.revoked', deviceId });
    ctx.log.info('device revoked', { device: deviceId });
    store.journal.afterCommit(() => void dropPaid());
    return reply;
  };

  /** A CLI call: remembered under an id of its own, so a kill after devices.json still gets its event out. */
  const fromCli = async <T>(change: (by: Sender) => Promise<T>): Promise<T> => {
    const by = { device: CLI_SENDER, id: crypto.randomUUID() };
    const r = await store.commands.once(by.device, by.id, async (): Promise<RememberedReply> => {
      try {
        return { ok: true, result: await change(by) };
      } catch (err) {
        if (err instanceof CommandError) return { ok: false, result: { message: err.message } };
        throw err;
      }
    });
    if (!r.ok) throw new Error((r.result as { message: string }).message);
    return r.result as T;
  };

  return { ready, rename, revoke, fromCli };
}

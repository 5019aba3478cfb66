// Memory on the phone (WebSocket commands) and in the CLI (control socket methods). Every change a
// person makes here is in the audit log too, like the agent's own memory changes. A note, a name or
// instructions holding a secret Errand knows are not saved (secrets.ts); what a phone reads of notes
// written beside Errand is redacted. The CLI on this computer shows notes as they are, so the person
// can find and remove such a note.
import { MAX_WRITER_NAME, type MemoryListResult, type MemoryWriter } from '../../../../shared/src/index.js';
import type { DaemonContext } from '../../context.js';
import { CommandError } from '../../util/command-error.js';
import type { AuditLog } from '../audit.js';
import { noSecrets, type SecretsNow } from '../secret-files.js';
import type { NoteWriter } from './authors.js';
import { describeDamage } from './noted-commands.js';
import { holdsKnownSecret, secretNotSaved, withoutSecrets } from './secrets.js';
import type { MemoryService } from './service.js';

/** Audit entries for changes made by a person, not by a task. */
const BY_PERSON = 'memory-by-person';

export function registerMemoryCommands(
  ctx: Pick<DaemonContext, 'log' | 'commands' | 'control' | 'config'> & {
    store?: Pick<DaemonContext['store'], 'devices' | 'threads'>;
  },
  m: MemoryService,
  audit?: AuditLog,
  secrets: SecretsNow = noSecrets,
): void {
  const record = (tool: string, args: Record<string, unknown>, by: string, outcome: string) => {
    try {
      audit?.append({ at: Date.now(), taskId: BY_PERSON, tool, args, decision: 'allow', approvedBy: by, outcome });
    } catch (err) {
      ctx.log.error('audit log write failed', { error: (err as Error).message });
    }
  };
  const onPhone = (cc: { device: { name: string; id: string } }) => `${cc.device.name} (${cc.device.id})`;
  const onComputer = 'errand CLI on this computer';
  const bytes = (text: string) => `${Buffer.byteLength(text)} bytes`;

  /**
   * A note's writer as clients see it: a task by its thread's title now (none once the thread is
   * gone), a device by its name now (or the one it had when it wrote, once it is unpaired).
   */
  const writer = (by: NoteWriter): MemoryWriter => {
    const cut = (name: string) => name.slice(0, MAX_WRITER_NAME);
    if (by.kind === 'task') {
      const title = ctx.store?.threads.summary(by.threadId)?.title;
      return { kind: 'task', threadId: by.threadId, ...(title === undefined ? {} : { threadTitle: cut(title) }) };
    }
    if (by.kind === 'device')
      return { ...by, deviceName: cut(ctx.store?.devices.get(by.deviceId)?.name ?? by.deviceName) };
    return by;
  };
  const byDevice = (cc: { device: { name: string; id: string } }): NoteWriter => ({
    kind: 'device',
    deviceId: cc.device.id,
    deviceName: cc.device.name,
  });
  const list = async (): Promise<MemoryListResult> => ({
    ...(await m.list(writer)),
    enabled: ctx.config().memory.enabled,
  });
  /** Refused before anything is written, so neither the note nor the command's record holds it. */
  const refuseSecret = (what: string, ...texts: string[]) => {
    const known = secrets();
    if (texts.some((t) => holdsKnownSecret(t, known))) throw new CommandError('bad_request', secretNotSaved(what));
  };
  const shown = (text: string) => withoutSecrets(text, secrets());

  // A phone's changes are noted before they act, so one sent again after a crash does not act
  // again (service.ts). Settled now, before anything changes memory; each command waits for it too.
  // A damaged notes file is said once, here: commands go on, but an old one sent again may act again.
  m.settleCommands().then(
    (damage) => damage && ctx.log.error(describeDamage(damage)),
    (err) => ctx.log.error('memory commands from before the restart not settled', { error: (err as Error).message }),
  );
  const commandOf = (cmd: { id: string }, cc: { device: { id: string } }) => ({ device: cc.device.id, id: cmd.id });

  const c = ctx.commands;
  c.register('memory.list', async () => {
    const all = await list();
    return { ...all, entries: all.entries.map((e) => ({ ...e, path: shown(e.path) })) };
  });
  c.register('memory.get', async (cmd) => {
    const note = await m.read(cmd.path, writer);
    return { ...note, path: shown(note.path), text: shown(note.text) };
  });
  // A command sent again that acted before answers as it did; it changes nothing, so no audit entry.
  c.register('memory.put', async (cmd, cc) => {
    refuseSecret('Note', cmd.path, cmd.text);
    const again = await m.actedBefore(commandOf(cmd, cc));
    const entry = await m.write(cmd.path, cmd.text, byDevice(cc), writer, commandOf(cmd, cc));
    if (!again) record('memory.put', { path: cmd.path }, onPhone(cc), `wrote ${bytes(cmd.text)}`);
    return { entry };
  });
  // Gone already is done: a delete of a note that is not there answers `{}` too.
  const deleted = (removed: boolean) => (removed ? 'deleted' : 'already gone');
  c.register('memory.delete', async (cmd, cc) => {
    const again = await m.actedBefore(commandOf(cmd, cc));
    const removed = await m.remove(cmd.path, commandOf(cmd, cc));
    if (!again) record('memory.delete', { path: cmd.path }, onPhone(cc), deleted(removed));
    return {};
  });
  c.register('memory.clear', async (cmd, cc) => {
    const again = await m.actedBefore(commandOf(cmd, cc));
    const removed = await m.clear(commandOf(cmd, cc));
    if (!again) record('memory.clear', {}, onPhone(cc), `removed ${removed} file(s)`);
    return { removed };
  });
  c.register('instructions.get', async () => ({ text: shown(await m.instructions()) }));
  c.register('instructions.put', async (cmd, cc) => {
    refuseSecret('Instructions', cmd.text);
    const again = await m.actedBefore(commandOf(cmd, cc));
    const text = await m.setInstructions(cmd.text, commandOf(cmd, cc));
    if (!again) record('instructions.put', {}, onPhone(cc), `wrote ${bytes(cmd.text)}`);
    return { text };
  });

  const str = (v: unknown, name: string): string => {
    if (typeof v !== 'string') throw new Error(`${name} is required`);
    return v;
  };
  const ctl = ctx.control;
  ctl.register('memory.list', list);
  ctl.register('memory.show', async (p) => m.read(str(p.path, 'path'), writer));
  ctl.register('memory.edit', async (p) => {
    refuseSecret('Note', str(p.path, 'path'), str(p.text, 'text'));
    const entry = await m.write(str(p.path, 'path'), str(p.text, 'text'), { kind: 'computer' }, writer);
    record('memory.put', { path: p.path }, onComputer, `wrote ${bytes(str(p.text, 'text'))}`);
    return { entry };
  });
  ctl.register('memory.rm', async (p) => {
    const path = str(p.path, 'path');
    const removed = await m.remove(path);
    record('memory.delete', { path }, onComputer, deleted(removed));
    // A person at the terminal asks once: a note that is not there is a mistyped name, said so (a
    // phone's delete, sent again after a lost reply, is not: gone already is done there).
    if (!removed) throw new Error(`${path} does not exist; nothing deleted (\`errand memory\` lists the notes).`);
    return {};
  });
  ctl.register('memory.clear', async () => {
    const removed = await m.clear();
    record('memory.clear', {}, onComputer, `removed ${removed} file(s)`);
    return { removed };
  });
}

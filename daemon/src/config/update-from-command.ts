// config.json changed by a command from a phone (spending limits, web research). What the command
// owes its sender is noted first (owed-config-change.ts), then config.json is written: both whole,
// through a temp file, in one synchronous step under the config lock (config-lock.ts). A full disk
// is the command's plain answer, as for every other command, never an internal error, and it
// changes nothing: a note whose config.json write failed is taken back, so no later start rolls
// that change forward.
import { CommandError } from '../util/command-error.js';
import { PARSE_ONCE } from '../util/parse-once.js';
import { ConfigLockBusyError, withConfigLock } from './config-lock.js';
import { ConfigError, describeIssue, readConfigFile, writeConfigFile } from './load.js';
import {
  applyEdits,
  type ConfigEdit,
  configFingerprint,
  moveAsideOwedConfigChanges,
  type OwedConfigChange,
  readOwedConfigChanges,
  withdrawOwedConfigChange,
  writeOwedConfigChanges,
} from './owed-config-change.js';
import { homePaths } from './paths.js';
import { ConfigSchema } from './schema.js';

/** Where the command's debt is noted, and which debts noted before are still unpaid. */
export interface OwedNote {
  file: string;
  owed: Omit<OwedConfigChange, 'edits' | 'before'>;
  /** False for a debt whose reply the journal holds already: not carried into the new list. */
  unpaid: (o: OwedConfigChange) => boolean;
  /** Says what was wrong with a damaged note file (moved aside, not written over). */
  warn: (text: string) => void;
}

const diskFull = (err: unknown) => ['ENOSPC', 'EDQUOT'].includes((err as NodeJS.ErrnoException).code ?? '');

/** A full disk, or another process changing config.json too long: said as the command's answer. */
function answered(home: string, err: unknown): unknown {
  if (diskFull(err))
    return new CommandError(
      'unavailable',
      `The host could not save this: disk full at ${home}. Free some space, then send it again.`,
    );
  if (err instanceof ConfigLockBusyError) return new CommandError('unavailable', err.message);
  return err;
}

/** Make the edits in config.json's settings, checked as a start would check them. */
function edit(file: string, raw: Record<string, unknown>, edits: ConfigEdit[]): void {
  applyEdits(raw, edits);
  const parsed = ConfigSchema.safeParse(raw, PARSE_ONCE);
  if (!parsed.success) throw new ConfigError(describeIssue(parsed.error.issues[0], file));
}

/** The debts noted so far; a damaged file is moved aside first (said), so it is never written over. */
function unpaidDebts(note: OwedNote): OwedConfigChange[] {
  const read = readOwedConfigChanges(note.file);
  if (read.problem)
    note.warn(
      `${note.file} was damaged (${read.problem}); moved to ${moveAsideOwedConfigChanges(note.file)}, its ${read.owed.length} readable entries kept`,
    );
  return read.owed.filter(note.unpaid);
}

/**
 * Make the change: noted as owed, then written to config.json, both under the config lock (no
 * other process changes config.json between the settings read and the write). Durable on return.
 */
export function updateConfigFromCommand(home: string, edits: ConfigEdit[], note: OwedNote): void {
  const file = homePaths(home).config;
  try {
    withConfigLock(file, () => {
      const raw = readConfigFile(file);
      const before = configFingerprint(raw);
      edit(file, raw, edits);
      writeOwedConfigChanges(note.file, [...unpaidDebts(note), { ...note.owed, edits, before }]);
      try {
        writeConfigFile(file, raw);
      } catch (err) {
        try {
          withdrawOwedConfigChange(note.file, note.owed);
        } catch (again) {
          note.warn(`a config change that failed is still noted in ${note.file}: ${(again as Error).message}`);
        }
        throw err;
      }
    });
  } catch (err) {
    throw answered(home, err);
  }
}

/**
 * Make config.json hold a noted change whose write never landed: only when config.json is still as
 * it was just before (so no later change, the person's own edits included, is written over).
 * Returns whether it wrote. A full disk throws the command's `unavailable`.
 */
export function rollForward(home: string, o: OwedConfigChange): boolean {
  const file = homePaths(home).config;
  try {
    return withConfigLock(file, () => {
      const raw = readConfigFile(file);
      if (configFingerprint(raw) !== o.before) return false;
      edit(file, raw, o.edits);
      writeConfigFile(file, raw);
      return true;
    });
  } catch (err) {
    throw answered(home, err);
  }
}

// `errand repair`: fix a damaged journal (the daemon refuses to start on one). Keeps a copy,
// cuts the journal at the last good record (or goes on from what is left when its newest records
// are gone) and says what was dropped.
import { homePaths } from '../../config/paths.js';
import { lockHolder } from '../../store/lock.js';
import { inspectJournal, journalDirOf, repairJournal } from '../../store/repair.js';
import type { CliCommand } from '../command.js';

export const repairCommand: CliCommand = {
  name: 'repair',
  summary: 'Repair a damaged store journal (keeps a copy first)',
  help: `Usage: errand repair [--check] [--json]

When Errand refuses to start because its journal (<home>/store/wal) is damaged in the middle,
this keeps a copy of the journal in <home>/backups, cuts it at the last good record and says how
many records and events after it were dropped.

When the journal's newest records are gone (a segment file deleted, or lost in a restore), put the
missing file back if you have a copy; otherwise this keeps a copy of the journal and goes on from
what is left, saying after which record (and when) changes were lost.

Sequence numbers are never reused: phones that saw a dropped event get a fresh thread list when
they reconnect. Errand must be stopped.

Options:
  --check   only say whether the journal is whole; change nothing (exits 1 when it needs repair)`,
  options: { check: { type: 'boolean' } },
  async run(args, io) {
    const paths = homePaths(args.home);
    const json = args.values.json === true;
    if (args.values.check === true) {
      const h = inspectJournal(journalDirOf(paths));
      io.out(json ? JSON.stringify(h) : `Journal: ${h.status} — ${h.detail}.`);
      return h.status === 'damaged' || h.status === 'lost' || h.status === 'snapshot' ? 1 : 0;
    }
    const pid = lockHolder(paths.lock);
    if (pid !== undefined) {
      io.err(`Errand is running (process ${pid}) with this home folder; stop it first, then run \`errand repair\`.`);
      return 1;
    }
    const r = await repairJournal(paths);
    io.out(json ? JSON.stringify(r) : r.message);
    return r.cannot ? 1 : 0;
  },
};

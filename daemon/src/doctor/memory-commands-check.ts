// The file where a phone's memory commands are noted before they act (tools/memory/noted-commands.ts).
// Damaged, start moves it aside whole and goes on with what it can read; a command from before the
// damage, sent again after a crash, may then act again. Said here too, so the damage is not only in
// a log line that scrolled by.
import fsp from 'node:fs/promises';
import path from 'node:path';
import { readNotedCommands } from '../tools/memory/noted-commands.js';

/** A doctor check (checks.ts Check). */
interface NotedCommandsCheck {
  id: 'memoryCommands';
  title: string;
  status: 'ok' | 'warn';
  detail: string;
  fix?: string;
}

const title = 'Noted phone memory commands';
const CHECK_NOTES = 'check your notes (Settings → Memory, or `errand memory list`)';

/** The check, or none while nothing was ever noted (start writes the file on a phone's first memory command). */
export async function checkNotedMemoryCommands(store: string): Promise<NotedCommandsCheck[]> {
  const file = path.join(store, 'memory-clear.json');
  const names = await fsp.readdir(store).catch(() => [] as string[]);
  const aside = names.filter((n) => n.startsWith('memory-clear.json.damaged-')).map((n) => path.join(store, n));
  const found = names.includes('memory-clear.json') ? await readNotedCommands(file) : undefined;
  if (found?.problem)
    return [
      {
        id: 'memoryCommands',
        title,
        status: 'warn',
        detail: `${file} is damaged (${found.problem}); the next start moves it aside and keeps the ${found.notes.length} it can read`,
        fix: `Nothing to do to keep using Errand. After the next start, once your phones have reconnected, ${CHECK_NOTES}: a command sent before the damage may have acted again.`,
      },
    ];
  if (aside.length)
    return [
      {
        id: 'memoryCommands',
        title,
        status: 'warn',
        detail: `found damaged at a start and kept aside: ${aside.join(', ')}`,
        fix: `A phone memory command sent before the damage and sent again since may have acted again (a deleted note back): ${CHECK_NOTES}, then delete ${aside.length === 1 ? 'that file' : 'those files'}.`,
      },
    ];
  if (!found) return [];
  const n = found.notes.length;
  return [{ id: 'memoryCommands', title, status: 'ok', detail: `valid (${n} noted command${n === 1 ? '' : 's'})` }];
}

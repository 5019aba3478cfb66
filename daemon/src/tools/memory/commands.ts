// The memory tool's six commands (view, create, str_replace, insert, delete, rename), run by the
// daemon on the memory folder. Each is prepared first into its exact action (for a change: the
// whole file as it would be written), so an approval shows exactly that and its hash covers it;
// changes go through the change journal, so they are undoable like file changes. A change's grant
// class is its action's hash: "Allow for this task" covers only that exact change again, never a
// different file, other content, a delete or a rename. Memory never holds a secret Errand knows:
// a name or a change holding one is refused, and a note that already holds one (written beside
// Errand) is neither searched nor changed, as the fs tools treat such a file (secret-files.ts).
import fsp from 'node:fs/promises';
import path from 'node:path';
import { threadOfTask } from '../../agent/ids.js';
import type { ChangeJournal } from '../journal.js';
import { holdsSecretWords, noSecrets, type SecretsNow } from '../secret-files.js';
import type { PreparedCall } from '../types.js';
import { actionHash, ToolError } from '../util.js';
import { MemoryAuthors, type NoteWriter } from './authors.js';
import { byPath, memoryBoundBreach, withMemoryLock } from './bounds.js';
import {
  MAX_MEMORY_FILE,
  MEMORY_PREFIX,
  type MemoryPath,
  memoryPath,
  refuseInvisibleName,
  refuseLinks,
} from './paths.js';
import { holdsKnownSecret, secretInMemory } from './secrets.js';

export interface MemoryDeps {
  /** The memory folder (home/memory). */
  root: string;
  journal: ChangeJournal;
  /** The secrets Errand knows right now (the tools module's). */
  secrets?: SecretsNow;
}

const text = (t: string) => [{ type: 'text' as const, text: t }];

function needStr(input: Record<string, unknown>, key: string, allowEmpty = false): string {
  const v = input[key];
  if (typeof v !== 'string' || (!allowEmpty && v === '')) throw new ToolError(`"${key}" is required (a string).`);
  if (v.includes('\0')) throw new ToolError(`"${key}" contains a NUL character.`);
  return v;
}

function checkSize(content: string, name: string): void {
  const bytes = Buffer.byteLength(content);
  if (bytes > MAX_MEMORY_FILE)
    throw new ToolError(
      `Refused: ${name} would be ${bytes} bytes; a memory file holds at most ${MAX_MEMORY_FILE}. Keep memory short.`,
    );
}

async function stat(p: MemoryPath) {
  try {
    return await fsp.lstat(p.real);
  } catch {
    return undefined;
  }
}

async function readFile(p: MemoryPath): Promise<string> {
  const st = await stat(p);
  if (!st) throw new ToolError(`${p.name} does not exist.`);
  if (!st.isFile()) throw new ToolError(`${p.name} is not a file.`);
  if (st.size > MAX_MEMORY_FILE) throw new ToolError(`${p.name} is too large to read (${st.size} bytes).`);
  return fsp.readFile(p.real, 'utf8');
}

/** Refuses a change that would pass memory's bound as a whole, saying how to make room. */
async function checkBound(root: string, p: MemoryPath, content: string): Promise<void> {
  const breach = await memoryBoundBreach(root, p.real, Buffer.byteLength(content));
  if (breach)
    throw new ToolError(
      `Refused: ${p.name} not written; ${breach}. Delete notes that are no longer needed or merge several into one, then try again.`,
    );
}

const edited = (p: MemoryPath) => ({ ask: `Edit memory ${p.name}`, done: `Edited memory ${p.name}` });

const human = (n: number) => (n < 1024 ? `${n}B` : `${(n / 1024).toFixed(1)}K`);

/** A folder listing shows at most this many lines; the rest are counted, so the model knows they exist. */
const MAX_LISTING_LINES = 500;

/** Files and folders up to two levels below `p`, as the memory tool lists them. */
async function listing(root: string, p: MemoryPath): Promise<string> {
  const lines: string[] = [];
  let notShown = 0;
  const walk = async (dir: string, name: string, depth: number) => {
    const entries = (await fsp.readdir(dir, { withFileTypes: true })).sort((a, b) => byPath(a.name, b.name));
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const full = path.join(dir, e.name);
      const st = await fsp.lstat(full);
      if (st.isSymbolicLink()) continue;
      if (lines.length < MAX_LISTING_LINES)
        lines.push(`${human(st.size)}\t${name}/${e.name}${st.isDirectory() ? '/' : ''}`);
      else notShown++;
      if (st.isDirectory() && depth < 2) await walk(full, `${name}/${e.name}`, depth + 1);
    }
  };
  await fsp.mkdir(root, { recursive: true, mode: 0o700 });
  await walk(p.real, p.name, 1);
  const more = notShown ? `\n(${notShown} more not shown)` : '';
  return `Here are the files and directories up to 2 levels deep in ${p.name}:\n${lines.join('\n') || '(empty)'}${more}`;
}

function numbered(content: string, range?: unknown): string {
  const lines = content.split('\n');
  let from = 1;
  let to = lines.length;
  if (Array.isArray(range) && range.length === 2 && range.every((n) => Number.isInteger(n))) {
    from = Math.max(1, range[0] as number);
    to = (range[1] as number) === -1 ? lines.length : Math.min(lines.length, range[1] as number);
  }
  return lines
    .slice(from - 1, to)
    .map((l, i) => `${String(from + i).padStart(6)}\t${l}`)
    .join('\n');
}

/** Whether a command changes memory (a change in a tainted thread needs approval). */
export const changesMemory = (command: unknown): boolean => command !== 'view';

/** What a system error means, for the model: its code, never its message (that names host paths). */
const SYSTEM_REASONS: Record<string, string> = {
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
  EROFS: 'the disk is read-only',
  EACCES: 'permission was denied',
  EPERM: 'permission was denied',
  ENAMETOOLONG: 'a name is too long',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EISDIR: 'it is a folder',
  EEXIST: 'something is already there',
  ENOENT: 'it is not there (any more)',
  EIO: 'the disk reported an error',
};

/**
 * A failure as the model reads it: memory by its /memories names, never by where it lives in
 * Errand's home, nor by the folder handles the writes go through (/proc/self/fd/N/...).
 */
function forModel(err: unknown, root: string, what: string): ToolError {
  if (err instanceof ToolError) {
    const named = err.message
      .split(`${root}/`)
      .join(`${MEMORY_PREFIX}/`)
      .replace(/\/proc\/self\/fd\/\d+(?:\/[^\s'"]*)?/g, 'a memory folder');
    return new ToolError(named);
  }
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const why = (code && SYSTEM_REASONS[code]) ?? (code ? `the system refused it (${code})` : 'an unexpected error');
  return new ToolError(`${what} failed: ${why}. Check the memory folder with view, then try again or tell the user.`);
}

export async function prepareMemory(
  d: MemoryDeps,
  input: Record<string, unknown>,
  taskId: string,
): Promise<PreparedCall> {
  let prepared: PreparedCall;
  try {
    prepared = await prepareCommand(d, input, taskId);
  } catch (err) {
    throw forModel(err, d.root, 'Preparing the memory command');
  }
  const { execute } = prepared;
  return {
    ...prepared,
    async execute(...args) {
      try {
        return await execute.apply(prepared, args);
      } catch (err) {
        throw forModel(err, d.root, prepared.summary);
      }
    },
  };
}

async function prepareCommand(d: MemoryDeps, input: Record<string, unknown>, taskId: string): Promise<PreparedCall> {
  const command = input.command;
  const base = { actionClass: 'memory', subjects: [] as string[] };
  // A change outlives the thread: its grant is bound to exactly what the approval showed.
  const exact = (action: Record<string, unknown>) => ({ action, actionClass: `memory:${actionHash(action)}` });
  const secrets = (d.secrets ?? noSecrets)();
  // Each change is recorded as this task's, so the phone shows the note as the model's (authors.ts).
  const authors = new MemoryAuthors(d.root);
  const byTask: NoteWriter = { kind: 'task', taskId, threadId: threadOfTask(taskId) };
  const holds = (t: string) => holdsKnownSecret(t, secrets);
  // A name holding a secret would reach every phone (lists, the task's changes) and every later task.
  const at = async (key: string) => {
    const given = input[key];
    if (typeof given === 'string' && holds(given)) throw new ToolError(secretInMemory('name'));
    const p = memoryPath(d.root, given);
    await refuseLinks(d.root, p);
    return p;
  };
  // An approval asks ("Create memory …") before anything happened; the result says what did.
  const write = async (
    p: MemoryPath,
    content: string,
    op: 'write' | 'edit',
    words: { ask: string; done: string },
  ): Promise<PreparedCall> => {
    if (!p.segments.length) throw new ToolError('Refused: /memories is the folder; name a file under it.');
    checkSize(content, p.name);
    // Refused, not redacted: an approval shows it redacted, so the person could not see what they approve.
    if (holds(content)) throw new ToolError(secretInMemory('note'));
    await checkBound(d.root, p, content);
    const action = { command, path: p.name, content };
    return {
      ...base,
      ...exact(action),
      summary: words.ask,
      subjects: [p.name],
      persists: 'memory' as const,
      async execute() {
        await refuseLinks(d.root, p);
        // Again, and under the folder's lock: other notes may have been written while this one waited
        // for its approval, or are being written by a parallel task or the phone right now. The lock
        // is taken inside the task's turn, in the order an undo takes the two.
        await d.journal.writeFile(taskId, p.real, Buffer.from(content, 'utf8'), op, (write) =>
          withMemoryLock(d.root, async () => {
            await checkBound(d.root, p, content);
            const entry = await write();
            await authors.wrote(p.name, byTask);
            return entry;
          }),
        );
        return { content: text(`${words.done}.`), summary: words.done, changed: true };
      },
    };
  };
  /**
   * The note's text, unless it holds a secret: "not found" answers to old_str would give it away a
   * guess at a time, and an edit could break it into pieces redaction no longer finds.
   */
  const unchangeable = async (p: MemoryPath): Promise<string> => {
    const body = await readFile(p);
    if (holds(body))
      throw new ToolError(
        `Refused: ${holdsSecretWords(p.name)}, so the memory tool neither searches nor changes it. Tell the user to remove the secret from it on the computer, or delete the note.`,
      );
    return body;
  };
  switch (command) {
    case 'view': {
      const p = await at('path');
      const st = await stat(p);
      return {
        ...base,
        action: { command, path: p.name },
        summary: `Read memory ${p.name}`,
        subjects: [p.name],
        // A note a tainted task wrote taints the reader (a folder listing shows only names).
        ...(st?.isFile() ? { reads: [p.name] } : {}),
        async execute() {
          if (!st || st.isDirectory()) {
            if (!st && p.segments.length) throw new ToolError(`${p.name} does not exist.`);
            return { content: text(await listing(d.root, p)), summary: `Listed ${p.name}` };
          }
          const body = await readFile(p);
          return {
            content: text(`Here's the content of ${p.name} with line numbers:\n${numbered(body, input.view_range)}`),
            summary: `Read memory ${p.name}`,
          };
        },
      };
    }
    case 'create': {
      const p = await at('path');
      refuseInvisibleName(p);
      const content = needStr(input, 'file_text', true);
      if (await stat(p)) throw new ToolError(`${p.name} already exists; use str_replace or delete it first.`);
      return write(p, content, 'write', { ask: `Create memory ${p.name}`, done: `Created memory ${p.name}` });
    }
    case 'str_replace': {
      const p = await at('path');
      const oldStr = needStr(input, 'old_str');
      const newStr = needStr(input, 'new_str', true);
      const body = await unchangeable(p);
      const count = body.split(oldStr).length - 1;
      if (count === 0) throw new ToolError(`No replacement was made: old_str does not appear in ${p.name}.`);
      if (count > 1) throw new ToolError(`No replacement was made: old_str appears ${count} times in ${p.name}.`);
      return write(
        p,
        body.replace(oldStr, () => newStr),
        'edit',
        edited(p),
      );
    }
    case 'insert': {
      const p = await at('path');
      const insertText = needStr(input, 'insert_text', true);
      const line = input.insert_line;
      const body = await unchangeable(p);
      const lines = body.split('\n');
      if (typeof line !== 'number' || !Number.isInteger(line) || line < 0 || line > lines.length)
        throw new ToolError(`"insert_line" must be a whole number from 0 to ${lines.length}.`);
      lines.splice(line, 0, ...insertText.split('\n'));
      return write(p, lines.join('\n'), 'edit', edited(p));
    }
    case 'delete': {
      const p = await at('path');
      if (!p.segments.length) throw new ToolError('Refused: /memories itself cannot be deleted.');
      if (!(await stat(p))) throw new ToolError(`${p.name} does not exist.`);
      const done = `Deleted memory ${p.name}`;
      return {
        ...base,
        ...exact({ command, path: p.name }),
        summary: `Delete memory ${p.name}`,
        subjects: [p.name],
        persists: 'memory' as const,
        async execute() {
          await refuseLinks(d.root, p);
          await d.journal.trash(taskId, p.real);
          return { content: text(`${done}.`), summary: done, changed: true };
        },
      };
    }
    case 'rename': {
      const from = await at('old_path');
      const to = await at('new_path');
      refuseInvisibleName(to);
      if (!from.segments.length || !to.segments.length) throw new ToolError('Refused: /memories itself cannot move.');
      if (!(await stat(from))) throw new ToolError(`${from.name} does not exist.`);
      if (await stat(to)) throw new ToolError(`${to.name} already exists.`);
      const done = `Renamed memory ${from.name} to ${to.name}`;
      return {
        ...base,
        ...exact({ command, from: from.name, to: to.name }),
        summary: `Rename memory ${from.name} to ${to.name}`,
        subjects: [from.name, to.name],
        moves: { from: from.name, to: to.name },
        persists: 'memory' as const,
        async execute() {
          await refuseLinks(d.root, from);
          await refuseLinks(d.root, to);
          const before = await authors.stamp(from.name);
          await d.journal.move(taskId, from.real, to.real);
          // Apart from the move: the journal takes the task's turn, and an undo takes that turn
          // before the memory lock. The new name is the task's doing (a name can read as an order).
          await withMemoryLock(d.root, () => authors.moved(from.name, to.name, before, byTask));
          return { content: text(`${done}.`), summary: done, changed: true };
        },
      };
    }
    default:
      throw new ToolError('"command" must be one of view, create, str_replace, insert, delete, rename.');
  }
}

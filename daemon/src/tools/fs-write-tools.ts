// Changing tools: write, edit, mkdir, move, delete (to trash). Each goes through the change
// journal, which keeps the previous content so the task can be undone.
import type fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { ChangeJournal } from './journal.js';
import { readNoFollow } from './journal.js';
import {
  isExecutable,
  type LastingKind,
  lastingInMovedFolder,
  lastingKind,
  lastingKindOfFile,
  placedByMovedFolder,
} from './lasting-files.js';
import { readFileNoFollow } from './no-follow.js';
import { looksBinary, MAX_READ_BYTES } from './readers.js';
import type { KnownSecrets } from './redact.js';
import type { ResolvedPath, Roots } from './roots.js';
import { refuseInvisibleNames } from './safe-names.js';
import { holdsSecret, holdsSecretWords, noSecrets, type SecretsNow } from './secret-files.js';
import { asInput, optBool, str, type ToolSpec, text } from './types.js';
import { actionHash, clip, fmt, sha256, ToolError } from './util.js';

const MAX_WRITE_BYTES = 20 * 1024 * 1024;
/**
 * The most occurrences one fs_edit replaces: each is a step on the daemon's event loop, and a
 * one-character old_text in a large file would otherwise hold it for seconds.
 */
const MAX_REPLACEMENTS = 100_000;
const pathProp = (what: string) => ({
  type: 'string',
  description: `${what} Absolute, or relative to the workspace folder.`,
});

/**
 * A change to an instruction file or a file other programs run later (lasting-files.ts) outlives
 * the thread, like memory: in a tainted thread it asks, and a grant covers only this exact change
 * (its class is the action's hash).
 */
function lasting(
  targetKinds: Array<LastingKind | undefined>,
  action: Record<string, unknown>,
  actionClass: string,
  movedFolder?: { from: string; to: string },
) {
  const kinds = [
    ...targetKinds,
    movedFolder ? lastingInMovedFolder(movedFolder.from, movedFolder.to) : undefined,
  ].filter((k) => k !== undefined);
  if (!kinds.length) return { action, actionClass };
  const persists = kinds.includes('runs-later') ? ('runs-later' as const) : ('instructions' as const);
  return { action, actionClass: `${actionClass}:${actionHash(action)}`, persists };
}

/**
 * The most of what lands in lasting files one approval shows, whole: as much as a memory note, so
 * the action stays inside the runtime's bound on one approval (128 KB, JSON escapes included). A
 * larger change is refused, never shown in part: a Makefile or a hook runs whole, unseen tail and all.
 */
const MAX_SHOWN_BYTES = 100_000;
/** The most files one move may put where other programs run or read them. */
const MAX_SHOWN_FILES = 100;

const WRITE_IT_INSTEAD =
  'Write it there with fs_write instead, in parts: fs_write the first part, then add the rest with fs_edit.';
const WRITE_INSTEAD =
  'Write the files there with fs_write instead (each is shown whole); a long one in parts: fs_write the first part, then add the rest with fs_edit.';

/** What a lasting file is, in words for a refusal. */
const lastingWords = (kind: LastingKind) =>
  kind === 'instructions'
    ? 'an instruction file every later task follows'
    : 'a file other programs (git, a shell, a build …) run or read later';

const tooLargeToShow = (what: string, bytes: number) =>
  `Refused: ${what}, and a change there is shown whole for approval: at most ${fmt(MAX_SHOWN_BYTES)} bytes can be shown, and this is ${fmt(bytes)}. Nothing was changed.`;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * What an approval shows of content that lands in a lasting file, as fs_write shows it: its size,
 * its hash and all of it. Bytes that are not UTF-8 text cannot be shown, so they cannot land there.
 */
function shownWhole(file: string, data: Buffer, stat: fs.Stats | undefined, where: string, secrets: KnownSecrets) {
  // An approval is stored and sent to every phone: a secret is never in one.
  if (holdsSecret(data, secrets))
    throw new ToolError(
      `Refused: ${holdsSecretWords(file)}, and ${where}, so it would be shown whole for approval. Nothing was changed. Ask the user to put it there themselves.`,
    );
  let preview: string;
  try {
    preview = utf8.decode(data);
  } catch {
    throw new ToolError(
      `Refused: ${file} is not UTF-8 text, so it cannot be shown for approval, and ${where}. Nothing was changed. Ask the user to put it there themselves.`,
    );
  }
  return { bytes: data.length, sha256: sha256(data), ...executableMark(stat), preview };
}

/**
 * What lands in lasting places when `a` moves to `b`, shown as fs_write would show it: the file
 * itself when its new path is lasting; for a folder, each file the move puts in a lasting place
 * (placedByMovedFolder). Empty when nothing lands in one. The approval's hash covers it, and the
 * move checks it again right before it runs.
 */
async function landing(a: ResolvedPath, b: ResolvedPath, secrets: KnownSecrets): Promise<Record<string, unknown>> {
  if (!a.stat?.isDirectory()) {
    const kind = lastingKind(b.real);
    if (!kind) return {};
    const what = `${b.real} would be ${lastingWords(kind)}`;
    const tooLarge = (n: number) => new ToolError(`${tooLargeToShow(what, n)} ${WRITE_IT_INSTEAD}`);
    if ((a.stat?.size ?? 0) > MAX_SHOWN_BYTES) throw tooLarge(a.stat?.size ?? 0);
    const { data, stat } = await readNoFollow(a.real);
    if (data.length > MAX_SHOWN_BYTES) throw tooLarge(data.length);
    return shownWhole(a.real, data, stat, `at ${b.real} it would be ${lastingWords(kind)}`, secrets);
  }
  const { placed, complete } = placedByMovedFolder(a.real, b.real);
  const into = `${a.real} would put files where other programs run or read them later (${b.real})`;
  if (!complete)
    throw new ToolError(
      `Refused: ${into}, and it holds too much (or something unreadable) to show for approval. Nothing was moved. ${WRITE_INSTEAD}`,
    );
  if (!placed.length) return {};
  const other = placed.find((p) => !p.file);
  if (other)
    throw new ToolError(
      `Refused: ${into}, and ${other.rel} in it is a link or special file, which cannot be shown for approval. Nothing was moved. ${WRITE_INSTEAD}`,
    );
  if (placed.length > MAX_SHOWN_FILES)
    throw new ToolError(
      `Refused: ${into}: ${fmt(placed.length)} of them, and at most ${MAX_SHOWN_FILES} can be shown for approval. Nothing was moved. ${WRITE_INSTEAD}`,
    );
  const sizes = await Promise.all(placed.map((p) => fsp.lstat(path.join(a.real, p.rel)).then((st) => st.size)));
  const planned = sizes.reduce((sum, n) => sum + n, 0);
  if (planned > MAX_SHOWN_BYTES) throw new ToolError(`${tooLargeToShow(into, planned)} ${WRITE_INSTEAD}`);
  const files: Array<Record<string, unknown>> = [];
  let total = 0;
  for (const { rel } of placed) {
    const { data, stat } = await readNoFollow(path.join(a.real, rel));
    total += data.length;
    if (total > MAX_SHOWN_BYTES) throw new ToolError(`${tooLargeToShow(into, total)} ${WRITE_INSTEAD}`);
    files.push({ path: path.join(b.real, rel), ...shownWhole(path.join(a.real, rel), data, stat, into, secrets) });
  }
  return { files };
}

/**
 * Shown on the approval of a change to an executable file, and part of the action's hash: a file
 * made executable while its change waits for approval is a changed action that asks again.
 */
function executableMark(stat: fs.Stats | undefined): { executable?: true } {
  return isExecutable(stat) ? { executable: true } : {};
}

/**
 * Refuse a change to a file that became executable after the call was checked: it was decided on
 * as an ordinary file, and the overwrite would keep the bit.
 */
function refuseNewlyExecutable(file: string, checked: fs.Stats | undefined, now: fs.Stats | undefined) {
  if (!isExecutable(checked) && isExecutable(now))
    throw new ToolError(`${file} became executable after the change was checked; nothing was done. Try again.`);
}

/** Non-overlapping occurrences of `needle` in `data`, counted up to `limit`. */
function occurrences(data: Buffer, needle: Buffer, limit: number): number {
  let n = 0;
  for (let at = data.indexOf(needle); at !== -1 && n < limit; at = data.indexOf(needle, at + needle.length)) n++;
  return n;
}

/** `data` with its first `times` occurrences of `from` replaced by `to`, written into a buffer of `size` bytes. */
function replaceBytes(data: Buffer, from: Buffer, to: Buffer, times: number, size: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  let read = 0;
  let written = 0;
  for (let i = 0; i < times; i++) {
    const at = data.indexOf(from, read);
    written += data.copy(out, written, read, at);
    written += to.copy(out, written);
    read = at + from.length;
  }
  data.copy(out, written, read);
  return out;
}

/**
 * The changing tools. `secrets` are the secrets Errand knows: a file holding one is not edited,
 * nor shown for approval (secret-files.ts).
 */
export function writeTools(roots: Roots, journal: ChangeJournal, secrets: SecretsNow = noSecrets): ToolSpec[] {
  const refuseRoot = (real: string, what: string) => {
    if (roots.usable().includes(real))
      throw new ToolError(`Refused: ${real} is an allowed folder itself; ${what} it is not possible from here.`);
  };

  const write: ToolSpec = {
    kind: 'write',
    egress: false,
    definition: {
      name: 'fs_write',
      description:
        'Create a file or replace its whole content (UTF-8 text). Missing parent folders are created. The previous version is kept and the task can be undone.',
      input_schema: {
        type: 'object',
        properties: { path: pathProp('The file.'), content: { type: 'string' } },
        required: ['path', 'content'],
      },
    },
    summarize: (i) => `Write ${path.basename(String(i.path))}`,
    async prepare(raw, call) {
      const input = asInput(raw);
      const p = str(input, 'path');
      if (typeof input.content !== 'string') throw new ToolError('"content" is required and must be a string.');
      const data = Buffer.from(input.content, 'utf8');
      if (data.length > MAX_WRITE_BYTES)
        throw new ToolError(`The content is ${fmt(data.length)} bytes; the limit is ${fmt(MAX_WRITE_BYTES)}.`);
      const r = await roots.resolve(p, 'write');
      refuseInvisibleNames(r.missing);
      if (r.stat && !r.stat.isFile()) throw new ToolError(`${p} exists and is not a regular file.`);
      const kind = lastingKindOfFile(r.real, r.stat);
      if (kind && data.length > MAX_SHOWN_BYTES)
        throw new ToolError(
          `${tooLargeToShow(`${r.real} is ${lastingWords(kind)}`, data.length)} Write a shorter file, or write it in parts: fs_write the first part, then add the rest with fs_edit.`,
        );
      return {
        ...lasting(
          [kind],
          {
            tool: 'fs_write',
            path: r.real,
            bytes: data.length,
            sha256: sha256(data),
            overwrite: r.exists,
            ...executableMark(r.stat),
            // Instructions and files run later are shown whole: nothing hides past the preview.
            preview: kind ? input.content : clip(input.content, 1000),
          },
          'fs_write',
        ),
        summary: `${r.exists ? 'Overwrite' : 'Create'} ${r.real}`,
        subjects: [r.real],
        async execute() {
          const now = await roots.recheck(p, r, 'write');
          refuseNewlyExecutable(now.real, r.stat, now.stat);
          const entry = await journal.writeFile(call.taskId, now.real, data, 'write');
          return {
            content: text(`${entry.op === 'create' ? 'Created' : 'Wrote'} ${now.real} (${fmt(data.length)} bytes).`),
            summary: `${entry.op === 'create' ? 'Created' : 'Wrote'} ${path.basename(now.real)}`,
            changed: true,
          };
        },
      };
    },
  };

  const edit: ToolSpec = {
    kind: 'write',
    egress: false,
    definition: {
      name: 'fs_edit',
      description:
        'Replace an exact piece of text in a file. old_text must appear exactly once (include surrounding lines to make it unique), unless replace_all is true. The previous version is kept.',
      input_schema: {
        type: 'object',
        properties: {
          path: pathProp('The file.'),
          old_text: { type: 'string' },
          new_text: { type: 'string' },
          replace_all: { type: 'boolean' },
        },
        required: ['path', 'old_text', 'new_text'],
      },
    },
    summarize: (i) => `Edit ${path.basename(String(i.path))}`,
    async prepare(raw, call) {
      const input = asInput(raw);
      const p = str(input, 'path');
      const oldText = str(input, 'old_text');
      if (typeof input.new_text !== 'string') throw new ToolError('"new_text" is required and must be a string.');
      const newText = input.new_text;
      const all = optBool(input, 'replace_all') ?? false;
      const r = await roots.resolve(p, 'write', { mustExist: true });
      if (!r.stat?.isFile()) throw new ToolError(`${p} is not a regular file.`);
      const tooLarge = `fs_edit changes files up to ${fmt(MAX_READ_BYTES)} bytes; change it with a shell command instead.`;
      if (r.stat.size > MAX_READ_BYTES) throw new ToolError(`${p} is ${fmt(r.stat.size)} bytes; ${tooLarge}`);
      const oldBytes = Buffer.from(oldText, 'utf8');
      const newBytes = Buffer.from(newText, 'utf8');
      // The edit is made on the bytes read here, and every check below is on those same bytes.
      const compute = async (file: string) => {
        const { data } = await readFileNoFollow(file, MAX_READ_BYTES);
        if (looksBinary(data)) throw new ToolError(`${p} is a binary file; fs_edit changes text files only.`);
        // Before any answer about old_text: "not found" would tell the model whether a guess is in the secret.
        if (holdsSecret(data, secrets()))
          throw new ToolError(
            `Refused: ${holdsSecretWords(p)}, so fs_edit does not change it: an edit could take the secret apart into pieces that reach the model. Nothing was changed. Ask the user to edit ${p} themselves.`,
          );
        const count = occurrences(data, oldBytes, MAX_REPLACEMENTS + 1);
        const times = count > MAX_REPLACEMENTS ? `more than ${fmt(MAX_REPLACEMENTS)}` : fmt(count);
        if (count === 0)
          throw new ToolError(
            `old_text was not found in ${p}. Read the file again and copy the text exactly (spaces and line breaks count).`,
          );
        if (count > 1 && !all)
          throw new ToolError(
            `old_text appears ${times} times in ${p}; include more surrounding text to make it unique, or set replace_all.`,
          );
        if (count > MAX_REPLACEMENTS)
          throw new ToolError(
            `old_text appears ${times} times in ${p}; fs_edit replaces at most ${fmt(MAX_REPLACEMENTS)} at once. Nothing was changed. Use a longer old_text, or a shell command for a change this large.`,
          );
        const replaced = all ? count : 1;
        // The result's size before it is built: it is bounded like anything fs_write writes.
        const size = data.length + replaced * (newBytes.length - oldBytes.length);
        // An edit that does not grow the file is allowed whatever its size (up to the read cap).
        if (size > MAX_WRITE_BYTES && size > data.length)
          throw new ToolError(
            `The edit would make ${p} ${fmt(size)} bytes; the limit is ${fmt(MAX_WRITE_BYTES)}, as for fs_write. Nothing was changed. Replace fewer occurrences or with shorter text.`,
          );
        return {
          beforeSha: sha256(data),
          after: replaceBytes(data, oldBytes, newBytes, replaced, size),
          count: replaced,
        };
      };
      const first = await compute(r.real);
      return {
        ...lasting(
          [lastingKindOfFile(r.real, r.stat)],
          {
            tool: 'fs_edit',
            path: r.real,
            old_text: oldText,
            new_text: newText,
            replace_all: all,
            fileSha256: first.beforeSha,
            ...executableMark(r.stat),
          },
          'fs_edit',
        ),
        summary: `Edit ${r.real}`,
        subjects: [r.real],
        async execute() {
          const now = await roots.recheck(p, r, 'write');
          refuseNewlyExecutable(now.real, r.stat, now.stat);
          const res = await compute(now.real);
          await journal.writeFile(call.taskId, now.real, res.after, 'edit');
          return {
            content: text(`Edited ${now.real}: replaced ${res.count} occurrence${res.count === 1 ? '' : 's'}.`),
            summary: `Edited ${path.basename(now.real)}`,
            changed: true,
          };
        },
      };
    },
  };

  const mkdir: ToolSpec = {
    kind: 'write',
    egress: false,
    definition: {
      name: 'fs_mkdir',
      description: 'Create a folder (and any missing parent folders).',
      input_schema: { type: 'object', properties: { path: pathProp('The folder.') }, required: ['path'] },
    },
    summarize: (i) => `Make folder ${path.basename(String(i.path))}`,
    async prepare(raw, call) {
      const p = str(asInput(raw), 'path');
      const r = await roots.resolve(p, 'write');
      refuseInvisibleNames(r.missing);
      return {
        action: { tool: 'fs_mkdir', path: r.real },
        actionClass: 'fs_mkdir',
        summary: `Make folder ${r.real}`,
        subjects: [r.real],
        async execute() {
          const now = await roots.recheck(p, r, 'write');
          const n = await journal.mkdir(call.taskId, now.real);
          return {
            content: text(n ? `Created folder ${now.real}.` : `${now.real} already exists.`),
            summary: `Folder ${path.basename(now.real)}`,
            changed: n > 0,
          };
        },
      };
    },
  };

  const move: ToolSpec = {
    kind: 'write',
    egress: false,
    definition: {
      name: 'fs_move',
      description:
        'Move or rename a file or folder. "to" is the full new path and must not exist yet. Both must be inside allowed folders.',
      input_schema: {
        type: 'object',
        properties: { from: pathProp('Current path.'), to: pathProp('New path.') },
        required: ['from', 'to'],
      },
    },
    summarize: (i) => `Move ${path.basename(String(i.from))} → ${path.basename(String(i.to))}`,
    async prepare(raw, call) {
      const input = asInput(raw);
      const from = str(input, 'from');
      const to = str(input, 'to');
      const a = await roots.resolve(from, 'write', { mustExist: true, takesAway: true });
      const b = await roots.resolve(to, 'write');
      refuseInvisibleNames(b.missing);
      refuseRoot(a.real, 'moving');
      if (b.exists) throw new ToolError(`${to} already exists; pick a new name, or delete it first.`);
      if (a.stat?.isDirectory() && (b.real + path.sep).startsWith(a.real + path.sep))
        throw new ToolError('A folder cannot be moved into itself.');
      const lands = await landing(a, b, secrets());
      return {
        ...lasting(
          [lastingKind(b.real)],
          { tool: 'fs_move', from: a.real, to: b.real, ...lands },
          'fs_move',
          a.stat?.isDirectory() ? { from: a.real, to: b.real } : undefined,
        ),
        summary: `Move ${a.real} to ${b.real}`,
        subjects: [a.real, b.real],
        moves: { from: a.real, to: b.real },
        async execute() {
          const na = await roots.recheck(from, a, 'write', { takesAway: true });
          const nb = await roots.recheck(to, b, 'write');
          // What lands in a lasting place is exactly what was shown (and approved), or nothing moves.
          if (actionHash(await landing(na, nb, secrets())) !== actionHash(lands))
            throw new ToolError(
              `${na.real} changed after the move was checked; nothing was moved. Look at it again, then retry.`,
            );
          await journal.move(call.taskId, na.real, nb.real);
          return {
            content: text(`Moved ${na.real} to ${nb.real}.`),
            summary: `Moved ${path.basename(na.real)}`,
            changed: true,
          };
        },
      };
    },
  };

  const del: ToolSpec = {
    kind: 'write',
    egress: false,
    definition: {
      name: 'fs_delete',
      description:
        "Delete a file or folder by moving it to Errand's trash; the user can restore it, and undoing the task puts it back.",
      input_schema: { type: 'object', properties: { path: pathProp('The file or folder.') }, required: ['path'] },
    },
    summarize: (i) => `Delete ${path.basename(String(i.path))}`,
    async prepare(raw, call) {
      const p = str(asInput(raw), 'path');
      const r = await roots.resolve(p, 'write', { mustExist: true, takesAway: true });
      refuseRoot(r.real, 'deleting');
      return {
        action: { tool: 'fs_delete', path: r.real, type: r.stat?.isDirectory() ? 'folder' : 'file' },
        actionClass: 'fs_delete',
        summary: `Move ${r.real} to the trash`,
        subjects: [r.real],
        async execute() {
          const now = await roots.recheck(p, r, 'write', { takesAway: true });
          await journal.trash(call.taskId, now.real);
          return {
            content: text(`Moved ${now.real} to Errand's trash (restorable).`),
            summary: `Trashed ${clip(path.basename(now.real), 60)}`,
            changed: true,
          };
        },
      };
    },
  };

  return [write, edit, mkdir, move, del];
}

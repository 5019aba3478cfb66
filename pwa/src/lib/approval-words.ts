// An approval in plain words: one sentence saying what the computer wants to do, the command on one
// line, paths relative to the allowed folder they are in, and whether the shell sandbox contains it.
// The exact action (what the decision is bound to) stays one tap away, behind "Details".
// Every word that came from the model or the host (paths, the command, a connector's names, the
// summary) is shown with its invisible, control and direction-changing characters as visible markers
// (⟨U+202E⟩): what the card reads is what runs.
import type { Approval } from '../../../shared/src/index.js';
import { visibleText } from '../../../shared/src/visible-text.js';

export interface ApprovalWords {
  sentence: string;
  /** The command, on one line (shell only). */
  command?: string;
  /** 'on' / 'off' for shell commands. */
  sandbox?: 'on' | 'off';
  /**
   * What a write or a move puts in a file, as text with its line breaks (a file that runs later is
   * shown whole): read before Approve, not as one escaped JSON string behind Details.
   */
  content?: Array<{ path: string; bytes?: number; text: string }>;
  /**
   * The instruction every run of a schedule follows, whole with its line breaks: what the schedule
   * will do, where its title (the model's own words) can say anything.
   */
  task?: string;
}

/** `path` relative to the deepest allowed folder holding it ("Projects/report.md"), else as given. */
export function relativeToRoot(path: string, roots: string[]): string {
  let best: string | undefined;
  for (const r of roots) {
    const root = r.endsWith('/') ? r.slice(0, -1) : r;
    if ((path === root || path.startsWith(`${root}/`)) && (!best || root.length > best.length)) best = root;
  }
  if (!best) return path;
  const name = best.split('/').pop() || best;
  return path === best ? name : `${name}/${path.slice(best.length + 1)}`;
}

/**
 * A path as the phone shows it: relative to its allowed folder, with invisible and direction-changing
 * characters as markers. A file that was already there can be named `invoice\u202Efdp.exe`, which a
 * browser draws as "invoiceexe.pdf". Actions (open, download) keep the real path.
 */
export const shownPath = (path: string, roots: string[]): string => visibleText(relativeToRoot(path, roots));

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/**
 * Quote an argument only when it needs it, so the line reads as the person would type it; one line,
 * with line breaks, tabs and every invisible or direction-changing character shown as a marker.
 */
function shellLine(argv: unknown): string | undefined {
  if (!Array.isArray(argv) || !argv.every((a) => typeof a === 'string')) return undefined;
  return visibleText(
    (argv as string[])
      .map((a) => (/^[A-Za-z0-9_\-./=:@%+,]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`))
      .join(' '),
  );
}

export function approvalWords(a: Approval, roots: string[]): ApprovalWords {
  const words = sentenceAndCommand(a, roots);
  const content = contentOf(a, roots);
  const task = scheduleTaskOf(a);
  // The sentence's own words are plain; what it quotes (paths, names, the summary) is not.
  return {
    ...words,
    sentence: visibleText(words.sentence),
    ...(content.length ? { content } : {}),
    ...(task !== undefined ? { task } : {}),
  };
}

/** The task text a schedule approval (schedule_create, or a later change to one) binds its runs to. */
function scheduleTaskOf(a: Approval): string | undefined {
  return a.tool.startsWith('schedule_') && typeof a.action.task === 'string'
    ? visibleText(a.action.task, true)
    : undefined;
}

/** The content an fs_write or fs_move shows (its preview; a moved folder's files), line breaks kept. */
function contentOf(a: Approval, roots: string[]): NonNullable<ApprovalWords['content']> {
  const act = a.action;
  const tool = str(act.tool);
  if (tool !== 'fs_write' && tool !== 'fs_move') return [];
  const one = (path: unknown, bytes: unknown, text: unknown) =>
    typeof text === 'string'
      ? [
          {
            path: visibleText(typeof path === 'string' ? relativeToRoot(path, roots) : ''),
            ...(typeof bytes === 'number' ? { bytes } : {}),
            text: visibleText(text, true),
          },
        ]
      : [];
  const files = Array.isArray(act.files) ? (act.files as Array<Record<string, unknown>>) : [];
  return [
    ...one(tool === 'fs_move' ? act.to : act.path, act.bytes, act.preview),
    ...files.flatMap((f) => (f && typeof f === 'object' ? one(f.path, f.bytes, f.preview) : [])),
  ];
}

/**
 * "May this task go on?" (a spending limit or cap, a suspected runaway): not something the computer
 * wants to do, and never granted for the rest of the task (each limit asks again), so its card has
 * no "Allow for this task".
 */
export const asksToContinue = (a: Approval): boolean =>
  a.action.kind === 'spend' || a.action.kind === 'same_call' || a.action.kind === 'no_progress';

function sentenceAndCommand(a: Approval, roots: string[]): ApprovalWords {
  const act = a.action;
  if (act.kind === 'spend') return { sentence: `Spending limit. ${a.summary}` };
  if (act.kind === 'same_call' || act.kind === 'no_progress')
    return { sentence: `This task may be stuck. ${a.summary}` };
  const rel = (p: unknown) => (typeof p === 'string' ? relativeToRoot(p, roots) : '');
  switch (str(act.tool)) {
    case 'shell': {
      const sandbox = str(act.sandbox)?.startsWith('on') ? 'on' : 'off';
      return {
        sentence: `Your computer wants to run a command in ${rel(act.cwd) || 'its workspace'}.`,
        command: shellLine(act.argv),
        sandbox,
      };
    }
    case 'fs_write':
      return {
        sentence: `Your computer wants to ${act.overwrite ? 'overwrite' : 'create'} ${rel(act.path)}.`,
      };
    case 'fs_edit':
      return { sentence: `Your computer wants to change ${rel(act.path)}.` };
    case 'fs_delete':
      return {
        sentence: `Your computer wants to delete the ${act.type === 'folder' ? 'folder' : 'file'} ${rel(act.path)}.`,
      };
    case 'fs_move':
      return { sentence: `Your computer wants to move ${rel(act.from)} to ${rel(act.to)}.` };
    case 'fs_mkdir':
      return { sentence: `Your computer wants to create the folder ${rel(act.path)}.` };
    default:
      if (str(act.connector) && str(act.serverTool))
        return {
          sentence: `Your computer wants to use “${str(act.serverTool)}” from the ${str(act.connector)} connector.`,
        };
      return { sentence: `Your computer wants to: ${a.summary}` };
  }
}

// `errand memory`: what the agent remembers across threads (the memory tool's files), shown,
// edited and deleted from the terminal.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MAX_MEMORY_FILES, type MemoryListResult } from '../../../../shared/src/index.js';
import { homePaths } from '../../config/paths.js';
import { controlCall } from '../../control/client.js';
import type { CliCommand, CliIO } from '../command.js';
import { ago, callDaemon } from '../daemon-client.js';
import { forTerminal, linesForTerminal } from '../terminal-text.js';

const count = (n: number) => n.toLocaleString('en');
const full = (p: string) => (p.startsWith('/memories/') ? p : `/memories/${p.replace(/^\/+/, '')}`);

function readStdin(): string {
  return fs.readFileSync(0, 'utf8');
}

/** The text of the file --file names, or what keeps it from being read, as words (not an errno). */
function readTextFile(file: string): { text: string; problem?: undefined } | { problem: string } {
  try {
    return { text: fs.readFileSync(file, 'utf8') };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const named = forTerminal(file);
    if (code === 'ENOENT' || code === 'ENOTDIR')
      return { problem: `${named} does not exist (check the path after --file)` };
    if (code === 'EISDIR') return { problem: `${named} is a folder; --file takes a file` };
    if (code === 'EACCES' || code === 'EPERM') return { problem: `${named} cannot be read (permission denied)` };
    return { problem: `${named} cannot be read (${code ?? forTerminal((err as Error).message)})` };
  }
}

/** Edit `text` in $EDITOR (or vi); undefined when the editor failed. */
function inEditor(io: CliIO, text: string): string | undefined {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-memory-'));
  try {
    const file = path.join(dir, 'memory.md');
    fs.writeFileSync(file, text, { mode: 0o600 });
    const editor = io.env.VISUAL || io.env.EDITOR || 'vi';
    const r = spawnSync(editor, [file], { stdio: 'inherit', shell: true });
    if (r.status !== 0) return undefined;
    return fs.readFileSync(file, 'utf8');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export interface MemoryCommandDeps {
  /** Piped input (tests: a string). */
  readStdin?: () => string;
}

export function makeMemoryCommand(deps: MemoryCommandDeps = {}): CliCommand {
  return {
    name: 'memory',
    summary: 'What the agent remembers across threads: list, show, edit, delete',
    help: `Usage:
  errand memory [list] [--json]          the memory files (/memories/...)
  errand memory show <path>              print one
  errand memory edit <path> [--text T]   replace one: --text, --file F, piped stdin, or $EDITOR
  errand memory rm <path>                delete one
  errand memory clear [--yes]            delete every memory file
Paths may leave out /memories/ (errand memory show prefs.md).`,
    options: { text: { type: 'string' }, file: { type: 'string' }, yes: { type: 'boolean', short: 'y' } },
    allowPositionals: true,
    async run(args, io) {
      const [action = 'list', name] = args.positionals;
      const json = args.values.json === true;
      const needPath = () => {
        if (name) return true;
        io.err(`Usage: errand memory ${action} <path> (paths are shown by \`errand memory\`).`);
        return false;
      };
      switch (action) {
        case 'list': {
          const r: MemoryListResult | undefined = await callDaemon(io, args.home, 'memory.list');
          if (!r) return 1;
          if (json) io.out(JSON.stringify(r, null, 2));
          else {
            if (!r.enabled)
              io.out('Memory is off (config memory.enabled = false); the agent neither reads nor writes it.');
            if (r.entries.length === 0) io.out('The agent remembers nothing yet.');
            // The model wrote these: escapes and direction marks are shown, never acted on by the terminal.
            for (const e of r.entries)
              io.out(`${forTerminal(e.path)}  (${bytesWord(e.bytes)}, changed ${ago(e.modifiedAt)})`);
            // The agent can read every file, so a cut list says what it leaves out.
            if (r.truncated && r.total !== undefined)
              io.out(
                `Showing ${count(r.entries.length)} of ${count(r.total)} memory files (the first by name). Memory holds at most ${count(MAX_MEMORY_FILES)}: the agent adds none until some are deleted (errand memory rm <path>, or errand memory clear).`,
              );
          }
          return 0;
        }
        case 'show': {
          if (!needPath()) return 2;
          const r = await callDaemon(io, args.home, 'memory.show', { path: full(name!) });
          if (!r) return 1;
          io.out(json ? JSON.stringify(r) : linesForTerminal(r.text).join('\n'));
          return 0;
        }
        case 'edit': {
          if (!needPath()) return 2;
          let text: string | undefined;
          if (typeof args.values.text === 'string') text = args.values.text;
          else if (typeof args.values.file === 'string') {
            const read = readTextFile(args.values.file);
            if (read.problem !== undefined) {
              io.err(`errand memory edit: ${read.problem}; nothing changed.`);
              return 1;
            }
            text = read.text;
          } else if (!io.interactive) {
            text = (deps.readStdin ?? readStdin)();
            // cron, a script or `ssh host errand …` without a terminal give an empty stdin: that is
            // no input, not a request to wipe the note.
            if (text === '') {
              io.err(
                "errand memory edit: nothing came on stdin, so nothing changed. Pipe the new text in, or use --text or --file (--text '' empties a note).",
              );
              return 2;
            }
          } else {
            // A new file starts empty: no error for a missing one.
            const cur = await controlCall(homePaths(args.home).socket, 'memory.show', { path: full(name!) }).catch(
              () => undefined,
            );
            text = inEditor(io, cur?.text ?? '');
            if (text === undefined) {
              io.err('The editor failed; nothing changed.');
              return 1;
            }
          }
          const r = await callDaemon(io, args.home, 'memory.edit', { path: full(name!), text });
          if (!r) return 1;
          io.out(json ? JSON.stringify(r.entry) : `Saved ${forTerminal(r.entry.path)} (${bytesWord(r.entry.bytes)}).`);
          return 0;
        }
        case 'rm': {
          if (!needPath()) return 2;
          const r = await callDaemon(io, args.home, 'memory.rm', { path: full(name!) });
          if (!r) return 1;
          io.out(json ? JSON.stringify({ removed: full(name!) }) : `Deleted ${forTerminal(full(name!))}.`);
          return 0;
        }
        case 'clear': {
          if (args.values.yes !== true && !(await io.confirm('Delete everything the agent remembers?'))) {
            io.err('Nothing deleted (pass --yes to clear without asking).');
            return 1;
          }
          const r = await callDaemon(io, args.home, 'memory.clear');
          if (!r) return 1;
          io.out(json ? JSON.stringify(r) : `Deleted ${r.removed} memory file${r.removed === 1 ? '' : 's'}.`);
          return 0;
        }
        default:
          io.err('errand memory: unknown action. Try `errand memory --help`.');
          return 2;
      }
    },
  };
}

const bytesWord = (n: number) => (n === 1 ? '1 byte' : `${n.toLocaleString('en')} bytes`);
export const memoryCommand = makeMemoryCommand();

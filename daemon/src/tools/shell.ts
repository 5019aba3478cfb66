import type { Config } from '../config/schema.js';
import { argumentFiles, recheckArgumentFiles } from './argument-files.js';
import type { ChangeJournal } from './journal.js';
import type { ProcessNotes } from './orphans.js';
import {
  hardLinks,
  notInsideBecause,
  recheckPlainReadArguments,
  walkedClean,
  walkedHardLinks,
} from './plain-read-arguments.js';
import { recheckProgram, resolveProgram } from './resolve-program.js';
import { isInside, type Roots } from './roots.js';
import { limitArgv, limitNote, runProcess } from './run-process.js';
import type { Sandbox } from './sandbox.js';
import { grantIsWide, isPlainRead, shellActionClass } from './shell-grants.js';
import { type SnapshotLimits, withShellUndo } from './shell-journal.js';
import { asInput, optStr, type ToolSpec } from './types.js';
import { clip, fmt, shellQuote, ToolError } from './util.js';

// What "allow for this task" covers (exact argv unless a plain read): see shell-grants.ts.
// What runs is what was shown: argv[0] is resolved once, when the call is prepared, against the PATH
// the command runs with, and that absolute path is what the approval shows and what runs (see
// resolve-program.ts).
export { type RunResult, runProcess } from './run-process.js';
export { shellActionClass } from './shell-grants.js';

const SECRET_NAME = /key|token|secret|password|passwd|credential|auth|cookie|session/i;
const PASS = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'LC_CTYPE', 'USER', 'LOGNAME', 'SHELL', 'TZ', 'TMPDIR'];

/** A minimal environment for child processes: no API keys, tokens, passwords or credentials. */
export function scrubbedEnv(src: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const k of PASS) {
    const v = src[k];
    if (v !== undefined && !SECRET_NAME.test(k)) env[k] = v;
  }
  env.PATH ??= '/usr/local/bin:/usr/bin:/bin';
  env.LANG ??= 'C.UTF-8';
  env.TERM = 'dumb';
  return env;
}

/** A real path the agent can write: inside an allowed folder (file tools, the sandboxed shell). */
function inRoots(real: string, roots: Roots): boolean {
  return roots.usable().some((r) => isInside(r, real));
}

export function shellTool(deps: {
  roots: Roots;
  sandbox: Sandbox;
  config: () => Config;
  journal: ChangeJournal;
  notes?: ProcessNotes;
  undoLimits?: SnapshotLimits;
}): ToolSpec {
  return {
    kind: 'shell',
    egress: true,
    definition: {
      name: 'shell',
      description:
        'Run one program on the host: argv is the program and its arguments (no shell syntax unless you run ["bash","-c","..."] yourself), cwd a folder inside the allowed folders (default: the workspace). The user may have to approve it. Output is capped (start and end kept); there is a time limit. When sandboxed, it can write only inside the allowed folders and has no network.',
      input_schema: {
        type: 'object',
        properties: {
          argv: { type: 'array', items: { type: 'string' }, minItems: 1 },
          cwd: { type: 'string', description: 'Working folder; absolute or relative to the workspace.' },
        },
        required: ['argv'],
      },
    },
    summarize: (i) => `Run ${Array.isArray(i.argv) ? clip(shellQuote(i.argv.map(String)), 80) : 'a command'}`,
    async prepare(raw, call) {
      const input = asInput(raw);
      const argv = input.argv;
      if (
        !Array.isArray(argv) ||
        argv.length === 0 ||
        argv.length > 1000 ||
        !argv.every((a) => typeof a === 'string')
      ) {
        throw new ToolError('"argv" must be a non-empty array of strings, e.g. ["python3", "make_chart.py"].');
      }
      if (argv[0] === '' || argv.some((a) => a.includes('\0')))
        throw new ToolError('argv contains an empty program name or a NUL character.');
      const cwdIn = optStr(input, 'cwd') ?? deps.roots.workspace;
      const cwd = await deps.roots.resolve(cwdIn, 'write', { mustExist: true });
      if (!cwd.stat?.isDirectory()) throw new ToolError(`cwd ${cwdIn} is not a folder.`);
      await deps.sandbox.ensureStarted();
      const sandboxed = deps.sandbox.state.enabled;
      // The environment the command runs with (the sandbox passes it on): its PATH finds the program.
      const env = scrubbedEnv();
      const inside = (real: string) => inRoots(real, deps.roots);
      const program = await resolveProgram(argv[0], { pathVar: env.PATH, cwd: cwd.real, inside });
      const argumentInside = (candidate: string) => notInsideBecause(candidate, cwd.real, deps.roots) === undefined;
      // A reader that walks folders (grep -r, rg) reads the files in them too: one with other hard
      // links there keeps its grant exact, as one named in an argument does. Walked first (a
      // bounded, asynchronous walk), only for a call that could be wide.
      const walked = grantIsWide(argv, sandboxed, undefined, program)
        ? await walkedHardLinks(argv, cwd.real, deps.roots)
        : undefined;
      // Given to the grant checks as their sandbox flag: a grant may cover other arguments only when both hold.
      const mayBeWide = sandboxed && walkedClean(walked);
      // A plain read's grant covers its program whatever it reads: nothing there to bind.
      const bindFiles = !grantIsWide(argv, mayBeWide, argumentInside, program);
      const files = bindFiles ? await argumentFiles(argv, cwd.real, inside) : [];
      // fs_read refuses these; the approval says why this command may read them.
      const hardLinked = [
        ...new Set([
          ...files.filter((f) => hardLinks(f.path) > 1).map((f) => f.path),
          ...(walked?.files.map((f) => f.path) ?? []),
        ]),
      ];
      const line = shellQuote(argv);
      // A program from the allowed folders is one the agent may have written: the summary says so.
      const where = !program.writable
        ? ''
        : program.interpreter && !inside(program.real)
          ? ` (its interpreter ${clip(program.interpreter, 120)} is in the allowed folders)`
          : argv[0].includes('/')
            ? ' (a program in the allowed folders)'
            : ` (${argv[0]} here is ${clip(program.path, 120)}, a program in the allowed folders)`;
      return {
        action: {
          tool: 'shell',
          argv,
          program: program.path,
          ...(program.real !== program.path ? { programTarget: program.real } : {}),
          ...(program.writable
            ? {
                programInAllowedFolders:
                  'the agent can change this file: an approval covers only this exact content and argv',
                programSha256: program.sha256,
                ...(program.interpreter ? { interpreter: program.interpreter } : {}),
              }
            : {}),
          ...(files.length
            ? {
                filesInAllowedFolders: 'the agent can change these files: an approval covers only this content of them',
                files: Object.fromEntries(files.map((f) => [f.path, f.identity])),
              }
            : {}),
          ...(hardLinked.length
            ? {
                filesWithOtherHardLinks:
                  "another name of these files may be outside the allowed folders: Errand's file tools do not read them, this command would",
                hardLinked,
              }
            : {}),
          ...(walked && !walked.complete
            ? {
                foldersNotChecked:
                  'the folders this command reads could not all be checked for hard-linked files (too many entries, or one could not be listed): an approval covers only this exact command',
              }
            : {}),
          cwd: cwd.real,
          sandbox: sandboxed
            ? 'on: writes only in allowed folders, no network'
            : `off: ${deps.sandbox.state.reason ?? 'unavailable'}`,
        },
        actionClass: shellActionClass(argv, mayBeWide, argumentInside, program, files),
        summary: `Run ${clip(line, 120)}${where}`,
        subjects: [line],
        actsLate: true,
        async execute(signal, acts) {
          const now = await deps.roots.recheck(cwdIn, cwd, 'write');
          const cfg = deps.config().shell;
          // Exactly the file that was shown runs: its absolute path, no second PATH lookup; one the
          // agent could have changed is hashed again just before it starts (below).
          const exact = [program.path, ...argv.slice(1)];
          let run = exact;
          // Where it can write besides its folder (only that is compared): the other allowed folders
          // when sandboxed, anywhere when not. A plain read writes nothing anywhere.
          let alsoWrites: string | undefined = sandboxed ? undefined : 'anywhere: the sandbox is off';
          // Memory and process limits: set inside the sandbox (counted there per command), else by runProcess.
          const limits = { memoryMB: cfg.maxMemoryMB, processes: cfg.maxProcesses };
          if (sandboxed) {
            if (!deps.sandbox.state.enabled)
              throw new ToolError('The sandbox stopped since this call was checked; nothing was run.');
            // A tainted task's command writes only in its working folder: all it writes there is
            // compared after it ends and noted as tainted, while a `cd ..` or a path elsewhere let
            // it write where nothing noted it (a planted AGENTS.md, a copy of a noted file).
            const writable = call.tainted ? [now.real] : deps.roots.usable();
            if (writable.some((w) => !isInside(now.real, w))) alsoWrites = 'the other allowed folders';
            run = (
              await deps.sandbox.wrap(limitArgv(exact, limits), now.real, deps.roots.usable(), call.callId, writable)
            ).argv;
          }
          const writesNothing = isPlainRead(argv, program);
          if (writesNothing) alsoWrites = undefined;
          // The files under cwd are kept before it runs and compared after it ends (however it ends), so undo covers it.
          const undo = await withShellUndo({
            journal: deps.journal,
            taskId: call.taskId,
            cwd: now.real,
            skip: (p) => deps.roots.isPrivate(p),
            limits: deps.undoLimits,
            // A cancelled task stops comparing big files (what is left is recorded as not undoable).
            signal,
            alsoWrites,
            // Checked last, after the folder was kept (that can take a while): no window for a swap.
            run: async () => {
              await recheckProgram(program, { cwd: now.real, inside, pathVar: env.PATH });
              if (bindFiles) await recheckArgumentFiles(files, argv, now.real, inside);
              // A wide grant binds no file: what its arguments name is checked again instead.
              else await recheckPlainReadArguments(argv, now.real, deps.roots);
              // Started (durably) only now: a daemon killed while the sandbox was set up or the
              // folder kept leaves the command unrun, to be run again, not "outcome unknown".
              await acts?.();
              return runProcess(run, {
                cwd: now.real,
                env,
                timeoutMs: cfg.timeoutSeconds * 1000,
                maxOutputBytes: cfg.maxOutputBytes,
                signal,
                notes: deps.notes,
                keeper: !sandboxed,
                limits: { ...limits, applied: sandboxed },
              });
            },
          });
          const res = undo.value;
          if (sandboxed) deps.sandbox.after();
          const status = res.error
            ? `could not start: ${res.error}`
            : res.timedOut
              ? `killed after the ${cfg.timeoutSeconds}s time limit`
              : res.cancelled
                ? // Errand stopping (a restart, a shutdown) is not the person's cancel; the run resumes.
                  signal.reason === 'shutdown'
                  ? 'killed: Errand was stopping'
                  : 'killed: the task was cancelled'
                : res.code !== null
                  ? `exit code ${res.code}`
                  : `killed by ${res.signal}`;
          // Stopped at a limit, or failed the way a program does at one: the result says which limit.
          const limitSays = limitNote(res, limits);
          const ended = res.limit && limitSays ? limitSays : limitSays ? `${status}; ${limitSays}` : status;
          const output = sandboxed ? deps.sandbox.annotate(call.callId, res.output) : res.output;
          const capNote = res.truncated
            ? ` (output ${fmt(res.bytes)} bytes, capped at ${fmt(cfg.maxOutputBytes)}: start and end kept)`
            : '';
          const body = `$ ${line}\n[${ended}${capNote}]\n[${undo.note}]\n${output}`;
          return {
            content: [{ type: 'text', text: body }],
            isError: res.code !== 0 || !!res.error,
            summary: `Ran ${clip(line, 60)}: ${ended}${undo.undoable ? '' : ' (its changes cannot be undone)'}`,
            output: body, // bounded by maxOutputBytes; the phone gets a preview and fetches the rest
            changed: undo.changed,
            // What it may have changed unseen: other exact grants lapse, a tainted task's folder is noted (runtime.ts).
            ...(writesNothing ? {} : { unrecorded: { inFolder: !undo.complete, elsewhere: alsoWrites !== undefined } }),
          };
        },
      };
    },
  };
}

// The tools module: roots, file tools, shell (sandboxed when possible), connectors, policy,
// approvals, change journal and audit log, wired to the daemon context. `startTools` returns the
// ToolRuntime the agent uses, plus what the agent and daemon need around it.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream';
import type { Approval, FileView } from '../../../shared/src/index.js';
import { threadOfTask } from '../agent/ids.js';
import type { ToolRuntime } from '../agent/tool-runtime.js';
import type { Config } from '../config/schema.js';
import type { DaemonContext, DaemonModule, FileDownloadHandler, StatusPart } from '../context.js';
import type { Store } from '../store/index.js';
import { CommandError } from '../util/command-error.js';
import { Approvals } from './approvals.js';
import { askToContinue } from './ask-to-continue.js';
import { AuditLog } from './audit.js';
import { registerConnectorControl } from './connectors/control.js';
import { ConnectorManager } from './connectors/index.js';
import { registerDiffCommand } from './diff-command.js';
import { readTools } from './fs-read-tools.js';
import { writeTools } from './fs-write-tools.js';
import {
  ChangeJournal,
  changesUpdated,
  isTaskId,
  type RestoreGuard,
  readNoFollow,
  streamNoFollow,
  type UndoResult,
} from './journal.js';
import { memoryBreachFor, withMemoryLock } from './memory/bounds.js';
import { MEMORY_PREFIX } from './memory/paths.js';
import { registerMemoryCommands } from './memory/register.js';
import { MemoryService } from './memory/service.js';
import { memoryTool } from './memory/tool.js';
import { ProcessNotes } from './orphans.js';
import { fileView, MAX_READ_BYTES } from './readers.js';
import { Roots } from './roots.js';
import { Runtime } from './runtime.js';
import { Sandbox } from './sandbox.js';
import { fileHoldsSecret, redactedView, SCAN_BEFORE_BYTES, secretGuard } from './secret-views.js';
import { shellTool } from './shell.js';
import type { SnapshotLimits } from './shell-journal.js';
import { TaintedFiles } from './tainted-files.js';
import { closeTempLedger, openTempLedger } from './temp-ledger.js';
import { ToolError } from './util.js';

const MEDIA: Record<string, string> = {
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.json': 'application/json',
  '.pdf': 'application/pdf',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  '.html': 'text/plain; charset=utf-8',
};
const mediaTypeOf = (p: string) => MEDIA[path.extname(p).toLowerCase()] ?? 'application/octet-stream';

export interface ToolsModule extends ToolRuntime, DaemonModule {
  /** Approvals waiting for a decision in a thread (for thread.get). */
  pendingApprovals(threadId: string): Approval[];
  /** Resolves once the sandbox has started (or failed to) and every connector's first connection attempt ended. */
  ready(): Promise<void>;
  /** A task ended: forget its "allow for this task" grants. */
  endTask(taskId: string): void;
  undo(taskId: string): Promise<UndoResult>;
  roots: Roots;
  sandbox: Sandbox;
  connectors: ConnectorManager;
  approvals: Approvals;
  journal: ChangeJournal;
  audit: AuditLog;
  /** Serves GET /api/file: a file the task created or changed, downloaded by a paired device (audited). */
  fileDownload: FileDownloadHandler;
  /** Roots, connectors and sandbox. */
  status(): StatusPart;
}

/** What the tools module uses from the daemon (`status` is the whole host status, for host.updated). */
export type ToolsDeps = Pick<
  DaemonContext,
  'paths' | 'config' | 'onConfigChange' | 'log' | 'emit' | 'status' | 'commands' | 'control' | 'version'
> & {
  /**
   * Paired devices, whose token hashes never reach the model, and the threads that say which tasks
   * exist, and the journal whose records hold the commands' replies (absent in tools-only tests).
   */
  store?: Pick<Store, 'devices' | 'threads' | 'journal' | 'openApprovals'>;
};

export interface StartToolsOptions {
  /** Connector restart backoff (first delay) and call timeout; tests shorten them. */
  connectorBackoffMs?: number;
  connectorCallTimeoutMs?: number;
  /** Bounds of the snapshot that makes shell commands undoable; tests shrink them. */
  shellUndoLimits?: SnapshotLimits;
}

export async function startTools(ctx: ToolsDeps, opts: StartToolsOptions = {}): Promise<ToolsModule> {
  const roots = new Roots({
    home: ctx.paths.home,
    workspace: ctx.paths.workspace,
    configured: () => ctx.config().roots,
  });
  roots.init();
  // At start, synchronously: nothing else runs yet, and each asynchronous call waited on the thread pool.
  fs.mkdirSync(ctx.paths.journal, { recursive: true, mode: 0o700 });
  fs.mkdirSync(ctx.paths.trash, { recursive: true, mode: 0o700 });
  // Every restore goes through the roots check at the moment it writes (a root may be gone since,
  // or a link planted on the way: placeContained refuses to follow it).
  const memoryRoot = ctx.paths.memory;
  fs.mkdirSync(memoryRoot, { recursive: true, mode: 0o700 });
  const inMemory = (p: string) => {
    const rel = path.relative(memoryRoot, p);
    return !!rel && !rel.startsWith('..') && !path.isAbsolute(rel);
  };
  const mayWriteNow = async (target: string) => {
    // Undo of a memory change writes back into the memory folder (its own path rules hold there).
    if (inMemory(target)) return;
    const r = await roots.resolve(target, 'write');
    if (r.real !== target) throw new ToolError(`${target} now leads to ${r.real}; left as it is.`);
  };
  // An undo puts memory back only within memory's bound, checked and written under the folder's
  // lock like every other memory write: restores are writes like any other.
  const guardRestore: RestoreGuard = async (r, restore) => {
    if (!inMemory(r.target)) return void (await restore());
    return withMemoryLock(memoryRoot, async () => {
      // A rename undone inside memory adds nothing.
      const breach = r.from && inMemory(r.from) ? undefined : await memoryBreachFor(memoryRoot, await r.files());
      if (breach)
        return `not put back, memory is full (${breach}); delete notes you no longer need (Settings → Memory), then undo again`;
      await restore();
      return undefined;
    });
  };
  // Clients and the model name memory /memories/…, never by where it lives in Errand's home.
  const escapedMemoryRoot = memoryRoot.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
  // The folder or a path in it; not a longer name that begins the same (memory-old, memory.bak).
  const memoryNamed = new RegExp(`${escapedMemoryRoot}(?![\\w-]|\\.\\w)`, 'g');
  const shown = (text: string) => text.replace(memoryNamed, MEMORY_PREFIX);
  const taintedFiles = new TaintedFiles(path.join(ctx.paths.store, 'tainted-files'), {
    roots: () => [...roots.usable(), memoryRoot],
  });
  // The ledger names memory as the model does (/memories/…), everything else by its real path.
  const ledgerName = (p: string) =>
    inMemory(p) ? `${MEMORY_PREFIX}/${path.relative(memoryRoot, p).split(path.sep).join('/')}` : p;
  // Restores are writes like any other: what an undo or the trash puts back keeps the marks of where
  // it was (a tainted file written into a moved folder since comes back with it), noted durably
  // before it lands, so neither the new name nor a crash in between launders it.
  const beforeRestoreMove = (from: string, to: string) => {
    try {
      taintedFiles.carry(ledgerName(from), ledgerName(to));
    } catch (err) {
      throw new ToolError(
        `not put back, the note that it may hold text from untrusted content could not be saved (${(err as Error).message}); make room on the disk of Errand's home`,
      );
    }
  };
  const journal = new ChangeJournal(ctx.paths.journal, ctx.paths.trash, mayWriteNow, {
    guardRestore,
    beforeRestoreMove,
    shown,
  });
  const leftTemps = openTempLedger(path.join(ctx.paths.store, 'temp-files'));
  if (leftTemps) ctx.log.info('removed temp files a crash left beside files being written', { count: leftTemps });
  const notes = new ProcessNotes(path.join(ctx.paths.home, 'running-commands.json'));
  const orphans = notes.reap();
  if (orphans.length)
    ctx.log.warn('killed shell commands left running by a previous daemon', { commands: orphans.map((o) => o.argv0) });
  const audit = new AuditLog(ctx.paths.audit);
  // Each approval's request and answer is noted in its event's record: one a crash left open is
  // closed here, before any task runs again (a resume asks anew); one a device had decided stands.
  const open = ctx.store?.openApprovals;
  const approvals = new Approvals(
    (e, decided) => (open ? open.publish(e, decided) : ctx.emit(e)),
    () => ctx.config().approvals.expireMinutes,
    () => runtime.redactor(),
    (taskId, callId, hash) => open?.decisionFor(taskId, callId, hash),
  );
  const closed = await open?.closeLeftOpen();
  if (closed) ctx.log.info('approvals left waiting by a crash were closed as expired', { count: closed });
  const sandbox = new Sandbox(ctx.log, ctx.paths.home, ctx.paths.workspace);
  const bridges = sandbox.reapLeftBridges();
  if (bridges) ctx.log.warn('stopped sandbox network bridges left running by a previous daemon', { count: bridges });
  let sandboxMode = ctx.config().shell.sandbox;
  /** Tell clients the host status changed (sandbox started, roots or connectors changed). */
  const hostUpdated = () => {
    void ctx.emit({ kind: 'host.updated', status: ctx.status() }).catch(() => undefined);
  };
  sandbox.onStarted = (state) => {
    if (!state.enabled) ctx.log.warn(`shell sandbox off: ${state.reason}; every shell command will need approval`);
    hostUpdated();
  };
  const startSandbox = () => {
    sandbox.configure(sandboxMode, roots.usable());
    hostUpdated();
  };
  startSandbox(); // the runtime itself starts with the first shell command; shell calls wait for it

  const connectors = new ConnectorManager({
    home: ctx.paths.home,
    secretsFile: ctx.paths.secrets,
    log: ctx.log,
    version: ctx.version,
    emit: (e) => ctx.emit(e),
    backoffMs: opts.connectorBackoffMs,
    callTimeoutMs: opts.connectorCallTimeoutMs,
  });
  await connectors.apply(ctx.config().connectors);

  const promptLines = (): string[] => {
    const usable = roots.usable();
    const lines = [
      `Allowed folders (roots): ${usable.join(', ')}. Relative paths are relative to the workspace, ${roots.workspace}. Paths outside these folders are refused.`,
      sandbox.state.enabled
        ? "Shell commands run sandboxed: they can write only inside the allowed folders and have no network. They need the user's approval unless a rule allows them."
        : `Shell commands are not sandboxed on this computer (${sandbox.state.reason}); every one needs the user's approval, which may take a while.`,
    ];
    const conns = connectors.statuses();
    if (conns.length)
      lines.push(
        `Connectors: ${conns.map((c) => `${c.name} (${c.status}${c.status === 'connected' ? `, ${c.tools} tools` : ''})`).join('; ')}.`,
      );
    return lines;
  };

  // Secrets the daemon knows, kept out of everything tools return (stored, sent to phones, sent to
  // the model): the API key, the push signing key and connector secrets.
  let vapidKey: { mtimeMs: number; value?: string } | undefined;
  const knownSecrets = (): string[] => {
    const out = [...connectors.secrets.values()];
    const apiKey = ctx.config().anthropic.apiKey;
    if (apiKey) out.push(apiKey);
    try {
      const st = fs.statSync(ctx.paths.vapid);
      if (vapidKey?.mtimeMs !== st.mtimeMs) {
        const doc = JSON.parse(fs.readFileSync(ctx.paths.vapid, 'utf8')) as { privateKey?: unknown };
        vapidKey = { mtimeMs: st.mtimeMs, value: typeof doc.privateKey === 'string' ? doc.privateKey : undefined };
      }
      if (vapidKey.value) out.push(vapidKey.value);
    } catch {
      /* no push keys yet */
    }
    return out;
  };
  // The secrets the runtime redacts: the fs tools keep a file that holds one from the model (secret-files.ts).
  const toolSecrets = () => ({
    values: knownSecrets(),
    tokenHashes: new Set((ctx.store?.devices.list() ?? []).map((d) => d.tokenHash)),
  });

  const memory = memoryTool({ root: memoryRoot, journal, secrets: toolSecrets });
  const memoryService = new MemoryService(
    memoryRoot,
    ctx.paths.instructions,
    path.join(ctx.paths.store, 'memory-clear.json'),
  );
  registerMemoryCommands(ctx, memoryService, audit, toolSecrets);
  const runtime = new Runtime({
    taintedFiles,
    builtins: [
      ...readTools(roots, toolSecrets),
      ...writeTools(roots, journal, toolSecrets),
      shellTool({ roots, sandbox, config: () => ctx.config(), journal, notes, undoLimits: opts.shellUndoLimits }),
    ],
    optionalTools: () => (ctx.config().memory.enabled ? [memory] : []),
    connectorTools: () => connectors.toolSpecs(),
    connectorReadOnly: (n) => connectors.isReadOnly(n),
    config: () => ctx.config(),
    approvals,
    audit,
    journal,
    sandboxOn: () => sandbox.state.enabled,
    secrets: () => knownSecrets(),
    // The tools harness runs without a store; the daemon always has one.
    tokenHashes: () => new Set((ctx.store?.devices.list() ?? []).map((d) => d.tokenHash)),
    promptLines,
    emit: (e) => ctx.emit(e),
    log: ctx.log,
  });

  const onConfig = (config: Config) => {
    void (async () => {
      if (config.shell.sandbox !== sandboxMode) {
        sandboxMode = config.shell.sandbox;
        startSandbox();
      }
      await connectors.apply(config.connectors);
      hostUpdated();
    })().catch((err: Error) => ctx.log.error('applying configuration to tools failed', { error: err.message }));
  };
  ctx.onConfigChange(onConfig);

  /**
   * Settles once the command's record (its reply and events) is durable, or failed: an undo whose
   * record a crash tore is reported by the next undo (journal.ts `undo`). Undefined outside a command.
   */
  const recordWritten = (): Promise<boolean> | undefined => {
    const wal = ctx.store?.journal;
    const tx = wal?.current();
    if (!wal || !tx) return undefined;
    return new Promise<boolean>((resolve) => {
      // A failed record runs its fail hooks before its after-commit work.
      tx.failHooks.push(() => resolve(false));
      wal.afterCommit(() => resolve(true));
    });
  };

  const undo = async (taskId: string): Promise<UndoResult> => {
    const result = await journal.undo(taskId, recordWritten());
    // Nothing undone, nothing changed: no event for every device to store and show.
    if (result.restored.length || result.skipped.length) {
      // The undo is done on disk: a notice that could not go out is logged, never answered as a failed undo.
      try {
        await ctx.emit(changesUpdated(taskId, await journal.changes(taskId)));
      } catch (err) {
        ctx.log.error('the changes.updated event after an undo was not sent', {
          taskId,
          error: (err as Error).message,
        });
      }
    }
    return result;
  };

  /**
   * Refuses a task id a client made up, before anything is read, written or announced for it:
   * bad_request when it cannot be a task id at all, not_found when no thread has that task.
   */
  const knownTask = async (taskId: string): Promise<void> => {
    if (!isTaskId(taskId))
      throw new CommandError('bad_request', 'That is not a task id. Pick the task again from its thread.');
    const threads = ctx.store?.threads;
    if (!threads) return; // the tools harness runs without a store; the daemon always has one
    const threadId = threadOfTask(taskId);
    const found = threads.has(threadId) && (await threads.load(threadId)).tasks.some((t) => t.id === taskId);
    if (!found)
      throw new CommandError('not_found', 'There is no such task. It may have been deleted; refresh the thread.');
  };

  // Client commands.
  ctx.commands.register('approval.decide', async (cmd, c) => {
    const approval = approvals.decide(
      cmd.approvalId,
      cmd.hash,
      cmd.decision,
      { id: c.device.id, name: c.device.name },
      cmd.note,
    );
    return { approval };
  });
  ctx.commands.register('task.undo', async (cmd) => {
    await knownTask(cmd.taskId);
    return undo(cmd.taskId);
  });
  ctx.commands.register('task.changes', async (cmd) => {
    await knownTask(cmd.taskId);
    return { changes: await journal.changes(cmd.taskId) };
  });
  registerDiffCommand(ctx, journal, roots, () => toolSecrets(), knownTask);
  ctx.commands.register('task.audit', async (cmd) => {
    await knownTask(cmd.taskId);
    return { entries: await audit.forTask(cmd.taskId) };
  });
  /** The file a client may see for a task: one the task touched (or its trashed copy), or one inside the roots. */
  /** A file the task created or changed (or its trashed copy), while no link has crept into its path. */
  const touchedFile = async (taskId: string, p: string): Promise<string | undefined> => {
    const touched = await journal.touched(taskId).catch(() => new Set<string>());
    if (
      !touched.has(p) ||
      roots.isPrivate(p) ||
      (await fsp.realpath(path.dirname(p)).catch(() => '')) !== path.dirname(p)
    )
      return undefined;
    const st = await fsp.lstat(p).catch(() => undefined);
    if (st?.isFile() && st.nlink === 1) return p;
    const trashed = (await journal.entries(taskId))
      .reverse()
      .find((e) => e.op === 'trash' && e.path === p && e.trashPath);
    if (trashed && (await fsp.lstat(trashed.trashPath!).catch(() => undefined))?.isFile()) return trashed.trashPath!;
    return undefined;
  };
  const taskFile = async (taskId: string, p: string): Promise<string> => {
    const touched = await touchedFile(taskId, p);
    if (touched) return touched;
    try {
      const r = await roots.resolve(p, 'read', { mustExist: true });
      if (!r.stat?.isFile()) throw new ToolError(`${p} is not a file.`);
      return r.real;
    } catch (err) {
      if (err instanceof ToolError) throw new CommandError('forbidden', err.message);
      throw err;
    }
  };
  ctx.commands.register('task.file', async (cmd): Promise<{ file: FileView }> => {
    // A link from any page can open the app on a made-up task (#thread=…&task=…&file=…): no file is
    // read, and no refusal repeats the link's words, for a task that does not exist.
    await knownTask(cmd.taskId);
    const file = await taskFile(cmd.taskId, cmd.path);
    const st = await fsp.stat(file);
    if (st.size > MAX_READ_BYTES) return { file: { kind: 'binary', name: path.basename(cmd.path), size: st.size } };
    const { data } = await readNoFollow(file);
    return { file: redactedView(await fileView(cmd.path, data), data, toolSecrets()) };
  });
  // Downloads: only files the task created or changed (as docs/protocol.md says), each one audited.
  // The file is streamed from the handle opened without following links: never held whole in memory.
  const fileDownload: FileDownloadHandler = async (taskId, p, by) => {
    const file = await touchedFile(taskId, p).catch(() => undefined);
    if (!file) return undefined;
    // A file holding a secret Errand knows is not given out (task.file shows it redacted).
    const refused = `${path.basename(p)} holds a secret Errand knows (an API key, signing key or token), so it is not sent to a phone. Open it on the computer.`;
    // Looked at whole before the answer starts up to SCAN_BEFORE_BYTES (a clean refusal); and every
    // file again as it goes, since bytes are read as the phone takes them, and a file written in place
    // meanwhile would send what was not looked at: the download is cut before a piece holding one leaves.
    let holdsSecret = false;
    const opened = await streamNoFollow(file, async (handle, size) => {
      if (size > SCAN_BEFORE_BYTES) return;
      holdsSecret = await fileHoldsSecret(handle, size, toolSecrets());
      if (holdsSecret) throw new ToolError(refused);
    }).catch((err: unknown) => {
      if (holdsSecret) return undefined;
      throw err;
    });
    if (!opened) return { refused };
    const { stat } = opened;
    const stream = pipeline(opened.stream, secretGuard(toolSecrets()), () => undefined);
    try {
      audit.append({
        at: Date.now(),
        taskId,
        tool: 'file.download',
        args: { path: p },
        decision: 'allow',
        approvedBy: `${by.name} (${by.id})`,
        outcome: `downloaded ${stat.size} bytes`,
      });
    } catch (err) {
      ctx.log.error('audit log write failed', { error: (err as Error).message });
    }
    return { name: path.basename(p), mediaType: mediaTypeOf(p), size: stat.size, stream };
  };

  // Local control methods for the CLI (errand roots / allow / disallow / connectors).
  const rootsView = () => ({ roots: roots.list(), workspace: roots.workspace, sandbox: sandbox.state });
  ctx.control.register('roots.list', async () => rootsView());
  // The trash: `errand trash` (list) and `errand trash restore <id>` (CLI by the lead).
  ctx.control.register('trash.list', async () => ({ items: await journal.trashList() }));
  ctx.control.register('trash.restore', async (params) => {
    if (typeof params.id !== 'string') throw new Error('id is required');
    const restored = await journal.restoreFromTrash(params.id, async (original) => {
      const r = await roots.resolve(original, 'write');
      if (r.real !== original)
        throw new ToolError(`${original} now leads to ${r.real}; restore it by hand from ${ctx.paths.trash}.`);
    });
    return { restored };
  });
  registerConnectorControl(ctx.control, connectors);

  const status = (): StatusPart => ({
    roots: roots.list().map((r) => ({ path: r.path, exists: r.exists })),
    connectors: connectors.statuses().map(({ launch: _launch, ...s }) => s),
    sandbox: { enabled: sandbox.state.enabled, ...(sandbox.state.reason ? { reason: sandbox.state.reason } : {}) },
  });

  return {
    fileDownload,
    status,
    definitions: () => runtime.definitions(),
    summarize: (name, input) => runtime.summarize(name, input),
    run: (call, tctx) => runtime.run(call, tctx),
    promptContext: () => runtime.promptContext(),
    redactor: () => runtime.redactor(),
    changedFiles: async (taskId) => {
      const files = (await journal.changes(taskId))
        .filter((c) => c.op !== 'mkdir' && c.op !== 'trash' && !c.undone)
        .map((c) => c.toPath ?? c.path);
      // Most tasks change nothing: the workspace's real path is looked up only when needed.
      if (!files.length) return [];
      const ws = fs.realpathSync(roots.workspace);
      return [...new Set(files)].map((f) => {
        const rel = path.relative(ws, f);
        return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : f;
      });
    },
    pendingApprovals: (threadId) => runtime.pendingApprovals(threadId),
    askToContinue: askToContinue(approvals),
    notedFiles: (names) => taintedFiles.readBy(names, false),
    endTask: (taskId) => approvals.endTask(taskId),
    async ready() {
      await sandbox.ensureStarted();
      await connectors.settled();
    },
    undo,
    roots,
    sandbox,
    connectors,
    approvals,
    journal,
    audit,
    async stop() {
      closeTempLedger();
      approvals.stop();
      await connectors.stop();
      await sandbox.shutdown();
      audit.close();
    },
  };
}

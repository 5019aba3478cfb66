// A run's recorder: applies the loop's events (loop-types.ts LoopEvent) to the thread and the step
// journal and publishes them, keeping the commit rule: what a phone is shown is durable first.
// It knows the store and the event stream, not the loop.
//
// Where its writes go: a tool's "started" is a step-journal record (one fdatasync) written before
// the call runs; it also carries the reply, its cost and the results of calls finished since the
// last record. A read-only call gets no such record (run again after a crash, it does no harm);
// before the first one of a turn the reply and its cost are written without being waited for. The
// turn's checkpoint (one journal record) then holds all of it. Items
// that change between writes are kept in `unsaved` (thread.get shows them) and ride along with
// the next write; streaming text is sent as item.delta at most every `deltaIntervalMs` (its item
// announced by item.added with the first), or sooner with this run's next write: a short reply's
// text goes out in the same journal record as the task's end, which does not wait for a flush of
// its own.
import type { ServerEvent, Task, ThreadItem } from '../../../shared/src/index.js';
import type { BlobStore } from '../store/blobs.js';
import type { ThreadDoc } from '../store/threads.js';
import type { LoopEvent, LoopState, StepEnd, ToolStep } from './loop-types.js';
import { type AgentRecord, findTask, newItemId, upsertItem } from './records.js';
import { type Failure, retryNotice } from './retry.js';
import type { StepJournal, StepRecord } from './step-journal.js';
import { type Redact, readsWeb, redactStrings, type WebStep } from './web-tools.js';

/** Characters of a tool's output kept in the thread and its events; longer outputs are blobs. */
export const OUTPUT_PREVIEW = 64_000;

/** A read-only call shows it is running only once it takes this long (most reads end well before). */
export const SHOW_RUNNING_AFTER_MS = 200;

/**
 * Test-only: ERRAND_TEST_CRASH=in-read-only-call:<tool name> kills the process while a read-only
 * call of that tool runs (it returned, its result is not recorded), once the reply's record is
 * durable: a call that takes longer than one disk sync (a search of a big folder).
 */
const CRASH_IN_READ_ONLY_CALL = (() => {
  const v = process.env.ERRAND_TEST_CRASH;
  return v?.startsWith('in-read-only-call:') ? v.slice('in-read-only-call:'.length) : undefined;
})();

/** How much of a call's input a step shows; the model keeps the whole input in the conversation. */
export const INPUT_PREVIEW_BYTES = 32 * 1024;

/** A tool's input as the phone shows it: whole when small, else a bounded preview (events stay bounded). */
export function inputForDisplay(input: unknown): unknown {
  const json = JSON.stringify(input) ?? '';
  if (json.length <= INPUT_PREVIEW_BYTES) return input;
  return { preview: `${json.slice(0, INPUT_PREVIEW_BYTES)}…`, bytes: Buffer.byteLength(json) };
}

type AssistantItem = Extract<ThreadItem, { kind: 'assistant' }>;
type StepCarry = Omit<StepRecord, 'attempt' | 'turn' | 'started'>;
type Change<R> = (doc: ThreadDoc, rec: AgentRecord) => R;

export interface RecorderDeps {
  taskId: string;
  threadId: string;
  /** This run's name in the step journal. */
  attempt: string;
  /** One durable change of the thread (its summary event included). */
  mutate<R>(threadId: string, change: Change<R>): Promise<{ result: R; doc: ThreadDoc }>;
  /** Run `fn` as one journal record. */
  transaction<T>(fn: () => Promise<T>): Promise<T>;
  /** Publish an event to the phones (after what it shows is durable). */
  /** Publish an event; a promise, when given, settles once it is durable and sent. */
  publish(event: ServerEvent): Promise<unknown> | void;
  steps: StepJournal;
  blobs: Pick<BlobStore, 'put'>;
  warn(message: string, fields: Record<string, unknown>): void;
  /** How often streamed text is sent as item.delta (ms). */
  deltaIntervalMs: number;
  /**
   * Takes the known secrets out of a text (the tool runtime's redactor): what the model wrote (a
   * call's input and summary, its text, its thinking) is shown and stored without them.
   */
  redactor?: () => Redact;
}

export class RunRecorder {
  /** Streaming text items not yet persisted (thread.get shows them too). */
  private readonly live = new Map<string, AssistantItem>();
  /** Items whose latest state waits for the next thread write (thread.get shows them meanwhile). */
  private readonly unsaved = new Map<string, ThreadItem>();
  /**
   * Tool items of this run not ended yet, as last remembered, saved or not: a write while the task
   * waits for an approval saves them (out of `unsaved`), and the approved call's "running" comes after.
   */
  private readonly openTools = new Map<string, ThreadItem>();
  /** What the next step-journal record carries besides its own step. */
  private journalCarry: StepCarry = {};
  /** Read-only calls running now (they get no record of their own before they run). */
  private readonly readOnlySteps = new Set<string>();
  /** The carry holds the result of a call with effects: the next call makes it durable first. */
  private effectsCarried = false;
  /**
   * The reply's record written before the turn's first read-only call, not waited for: `durable`
   * settles false when it failed (the next record then carries what it held).
   */
  private replyNote: { turn: number; carry: StepCarry; durable: Promise<boolean> } | undefined;
  /** Read-only calls whose running state is not shown yet, with the timer that will show it. */
  private readonly quietRunning = new Map<string, NodeJS.Timeout>();
  /** Streamed text not sent yet, by item. */
  private pendingDeltas = new Map<string, string>();
  /** Streaming items the phones have not been told of: item.added goes out just before their first text. */
  private readonly unannounced = new Set<string>();
  /** Events of ended text blocks due within `deltaIntervalMs` (before the streamed text still live). */
  private streamed: ServerEvent[] = [];
  /** Changes (and their events) that ride along with the next durable write of this run. */
  private deferred: Array<Change<void>> = [];
  private deferredEvents: ServerEvent[] = [];
  private deltaTimer: NodeJS.Timeout | undefined;
  /** The task as last written (usage events update it between writes). */
  private task: Task | undefined;

  constructor(private readonly d: RecorderDeps) {}

  /**
   * The run's items as the events sent so far show them, for thread.get (saved ones may be newer in
   * memory). Streamed text not sent yet is left out: it follows as item.delta, and a phone that
   * fetched the thread meanwhile appends it once, never twice.
   */
  liveItems(): ThreadItem[] {
    const unsent = new Map<string, string>();
    const notAnnounced = new Set(this.unannounced);
    for (const e of [...this.inFlight, ...this.streamed]) {
      if (e.kind === 'item.added') notAnnounced.add(e.item.id);
      else if (e.kind === 'item.delta') unsent.set(e.itemId, (unsent.get(e.itemId) ?? '') + e.delta);
    }
    for (const [id, delta] of this.pendingDeltas) unsent.set(id, (unsent.get(id) ?? '') + delta);
    const out: ThreadItem[] = [];
    for (const i of [...this.unsaved.values(), ...this.live.values()]) {
      if (i.kind !== 'assistant') {
        out.push({ ...i } as ThreadItem);
        continue;
      }
      if (notAnnounced.has(i.id)) continue;
      const rest = unsent.get(i.id);
      const text = rest && i.text.endsWith(rest) ? i.text.slice(0, -rest.length) : i.text;
      if (text) out.push({ ...i, text });
    }
    return out;
  }

  /** Streamed-text events handed on but not yet sent: thread.get counts them as not sent. */
  private readonly inFlight = new Set<ServerEvent>();

  private send(e: ServerEvent): void {
    const sent = this.d.publish(e);
    if (!sent || (e.kind !== 'item.delta' && e.kind !== 'item.added')) return;
    this.inFlight.add(e);
    void sent.then(
      () => this.inFlight.delete(e),
      () => this.inFlight.delete(e),
    );
  }

  /** Apply one loop event. The promise settles when what it needs durable is durable. */
  apply(e: LoopEvent): void | Promise<void> {
    switch (e.type) {
      case 'text.started':
        return this.textStarted(e.itemId);
      case 'text.delta':
        return this.textDelta(e.itemId, e.delta);
      case 'text.ended':
        return this.persistText(e.itemId, e.text, false, e.sources);
      case 'text.reset':
        return this.textReset(e.itemId);
      case 'thought':
        return this.thought(e);
      case 'tools.planned':
        return this.toolsPlanned(e.steps, e.inflight, e.spent);
      case 'tool.started':
        return this.toolStarted(e.step, e.turn, e.readOnly);
      case 'tool.finished':
        return this.toolFinished(e);
      case 'tool.described':
        return this.described(e.step, e.summary);
      case 'checkpoint':
        return this.checkpoint(e.state);
      case 'usage':
        return this.usage(e);
      case 'retrying':
        return this.retrying(e.failure, e.delayMs);
      case 'notice':
        return this.notice(e.text);
      case 'web.step':
        return this.webStep(e.step);
    }
  }

  // ---- durable writes ---------------------------------------------------------------------------

  /** One durable write of the thread, carrying any deferred changes, and their events: one journal record. */
  write<R>(change: Change<R>): Promise<R> {
    return this.d.transaction(() => this.writeNow(change));
  }

  private async writeNow<R>(change: Change<R>): Promise<R> {
    const pending = this.deferred.splice(0);
    const events = this.deferredEvents.splice(0);
    const saved = [...this.unsaved.entries()];
    this.journalCarry = {}; // everything it held is in `pending` too
    this.effectsCarried = false;
    this.replyNote = undefined;
    const { result } = await this.d.mutate(this.d.threadId, (doc, rec) => {
      for (const d of pending) d(doc, rec);
      return change(doc, rec);
    });
    for (const [id, item] of saved) if (this.unsaved.get(id) === item) this.unsaved.delete(id);
    for (const e of this.takeStreamEvents()) this.send(e);
    for (const e of events) this.send(e);
    return result;
  }

  /**
   * Keep `item` as the latest state of a thread item until the next thread write has it: without
   * the known secrets, as every item goes to the phones and the thread file from here.
   */
  private remember(item: ThreadItem): ThreadItem {
    const copy = this.shown({ ...item } as ThreadItem);
    this.unsaved.set(item.id, copy);
    if (copy.kind === 'tool' && (copy.state === 'pending' || copy.state === 'running'))
      this.openTools.set(copy.id, copy);
    else this.openTools.delete(copy.id);
    this.deferred.push((doc) => upsertItem(doc, copy));
    return copy;
  }

  /**
   * An item as phones may see it: the known secrets out of its text, a tool call's summary, input
   * and output. Only what is shown changes: the call runs, and its approval binds, with the input as
   * the model wrote it. Ids, kinds and states are the daemon's own.
   */
  private shown(item: ThreadItem): ThreadItem {
    const redact = this.d.redactor?.();
    if (!redact) return item;
    // A tool's output comes redacted from the tool runtime (or the web tools): not walked again,
    // as it can be 64 KB on every turn.
    const { id, kind, taskId, output, ...rest } = item as ThreadItem & { taskId?: string; output?: unknown };
    const clean = redactStrings(rest, redact);
    return clean === rest
      ? item
      : ({
          ...clean,
          id,
          kind,
          ...(taskId !== undefined ? { taskId } : {}),
          ...(output !== undefined ? { output } : {}),
        } as ThreadItem);
  }

  /** One durable step-journal record; events held for durability follow it. */
  private async journal(turn: number, started?: string): Promise<void> {
    const carry = this.journalCarry;
    this.journalCarry = {};
    this.effectsCarried = false;
    const events = this.deferredEvents.splice(0);
    // A reply whose own record failed goes in this one (a call's start must not be durable without it).
    const note = this.replyNote;
    this.replyNote = undefined;
    const unnoted = note && note.turn === turn && !(await note.durable) ? note.carry : {};
    const record: StepRecord = { attempt: this.d.attempt, turn, ...unnoted, ...carry, ...(started ? { started } : {}) };
    await this.d.steps.append(this.d.taskId, record);
    this.publishNow(events);
  }

  /**
   * The reply and its cost in a record of their own, before the turn's first read-only call, not
   * waited for (the call, run again after a crash, does no harm, and the turn stays as quick). Without
   * it a crash while the call ran (a search of a big folder) lost the reply's cost, and the resumed
   * task paid for the same reply again, each time past the spending caps.
   */
  private noteReply(turn: number): void {
    const carry = this.journalCarry;
    this.journalCarry = {};
    const durable = this.d.steps.append(this.d.taskId, { attempt: this.d.attempt, turn, ...carry }).then(
      () => true,
      (err: unknown) => {
        this.d.warn("could not keep a reply's cost in the step journal; its turn's checkpoint keeps it", {
          taskId: this.d.taskId,
          error: String(err),
        });
        return false;
      },
    );
    this.replyNote = { turn, carry, durable };
  }

  /** A task change and its events: one journal record. */
  updateTask(patch: Partial<Task>, extra?: Change<void>): Promise<Task> {
    return this.d.transaction(() => this.changeTask(patch, extra));
  }

  private async changeTask(patch: Partial<Task>, extra?: Change<void>): Promise<Task> {
    const result = await this.write((doc, rec) => {
      const t = findTask(doc, this.d.taskId);
      if (!t) throw new Error(`task ${this.d.taskId} is gone`);
      for (const [k, v] of Object.entries(patch)) {
        if (v === undefined) delete (t as Record<string, unknown>)[k];
        else (t as Record<string, unknown>)[k] = v;
      }
      extra?.(doc, rec);
      return { ...t };
    });
    this.task = result;
    this.publishNow([{ kind: 'task.updated', task: result }]);
    return result;
  }

  /**
   * The run ends: keep the text of blocks the loop did not get to end. What streamed goes out with
   * the run's last write, which follows.
   */
  async settleText(): Promise<void> {
    for (const timer of this.quietRunning.values()) clearTimeout(timer);
    this.quietRunning.clear();
    // Streaming items the loop did not get to persist (an abort between events): keep their text.
    for (const item of [...this.live.values()]) await this.persistText(item.id, item.text);
  }

  // ---- streaming text ---------------------------------------------------------------------------

  private emitItem(item: ThreadItem | undefined, added = false): void {
    if (item)
      this.publishNow([{ kind: added ? 'item.added' : 'item.updated', threadId: this.d.threadId, item: { ...item } }]);
  }

  /**
   * Publish `events` now, after the streamed text not sent yet (phones see items in the order they
   * came), as one journal record when there are several.
   */
  private publishNow(events: ServerEvent[]): void {
    const all = [...this.takeStreamEvents(), ...events];
    if (all.length === 1) this.send(all[0]);
    else if (all.length > 1)
      this.d
        .transaction(async () => {
          for (const e of all) this.send(e);
        })
        .catch((err: unknown) => this.d.warn('could not publish streamed text', { error: String(err) }));
  }

  /** The streamed text not sent yet, as events (the timer that would have sent it is stopped). */
  private takeStreamEvents(): ServerEvent[] {
    clearTimeout(this.deltaTimer);
    this.deltaTimer = undefined;
    const events = this.streamed;
    this.streamed = [];
    for (const [itemId, delta] of this.pendingDeltas) {
      const item = this.live.get(itemId);
      if (!delta || !item) continue;
      if (this.unannounced.delete(itemId)) events.push(this.announce(item));
      events.push({ kind: 'item.delta', threadId: this.d.threadId, taskId: this.d.taskId, itemId, delta });
    }
    this.pendingDeltas.clear();
    return events;
  }

  /** item.added of a streamed item, empty: its text follows as item.delta (the text is in deltas only). */
  private announce(item: AssistantItem): ServerEvent {
    return { kind: 'item.added', threadId: this.d.threadId, item: { ...item, text: '' } };
  }

  private flushDeltas(): void {
    this.publishNow([]);
  }

  private sendStreamedSoon(): void {
    this.deltaTimer ??= setTimeout(() => this.flushDeltas(), this.d.deltaIntervalMs);
  }

  private textStarted(itemId: string): void {
    const item: AssistantItem = {
      kind: 'assistant',
      id: itemId,
      taskId: this.d.taskId,
      text: '',
      createdAt: Date.now(),
    };
    this.live.set(item.id, item);
    this.unannounced.add(item.id); // told with its first text
  }

  private textDelta(itemId: string, delta: string): void {
    const item = this.live.get(itemId);
    if (item) item.text += delta;
    this.pendingDeltas.set(itemId, (this.pendingDeltas.get(itemId) ?? '') + delta);
    this.sendStreamedSoon();
  }

  private textReset(itemId: string): void {
    this.pendingDeltas.delete(itemId);
    const item = this.live.get(itemId) ?? {
      kind: 'assistant' as const,
      id: itemId,
      taskId: this.d.taskId,
      text: '',
      createdAt: Date.now(),
    };
    item.text = '';
    this.live.set(itemId, item);
    // An item the phones were never told of has nothing to take back.
    if (!this.unannounced.has(itemId)) this.emitItem(item);
  }

  /**
   * A text block ended: its full text goes into the thread with the next durable write of this run
   * (the tool "started" record or the turn's checkpoint, which follow at once), or now when `now`.
   */
  private async persistText(
    itemId: string,
    text: string,
    now = false,
    sources?: Array<{ title: string; url: string }>,
  ): Promise<void> {
    const pending = this.pendingDeltas.get(itemId);
    this.pendingDeltas.delete(itemId);
    const unannounced = this.unannounced.delete(itemId);
    const live = this.live.get(itemId);
    this.live.delete(itemId);
    const createdAt = live?.createdAt ?? Date.now();
    let item: AssistantItem = {
      kind: 'assistant',
      id: itemId,
      taskId: this.d.taskId,
      text,
      createdAt,
      ...(sources ? { sources } : {}),
    };
    if (text) {
      item = this.remember(item) as AssistantItem;
      // The text reaches the phones within deltaIntervalMs, or with this run's next write if sooner.
      if (unannounced) this.streamed.push(this.announce(item));
      const delta = unannounced ? text : pending;
      if (delta)
        this.streamed.push({ kind: 'item.delta', threadId: this.d.threadId, taskId: this.d.taskId, itemId, delta });
      this.sendStreamedSoon();
    } else {
      // Nothing said in this block (a retried attempt said less): drop it from the history.
      this.unsaved.delete(itemId);
      this.deferred.push((doc) => {
        doc.items = doc.items.filter((x) => x.id !== itemId);
      });
    }
    // (An empty block the phones never saw needs no word to them.)
    if (text || !unannounced) this.deferredEvents.push({ kind: 'item.updated', threadId: this.d.threadId, item });
    if (now) await this.write(() => undefined);
  }

  private async thought({ summary, redacted, ms }: { summary: string; redacted: boolean; ms: number }) {
    const item: ThreadItem = {
      kind: 'thought',
      id: newItemId('itm'),
      taskId: this.d.taskId,
      text: summary.slice(0, 20_000),
      ...(redacted ? { redacted: true } : {}),
      ms: Math.max(0, Math.round(ms)),
      createdAt: Date.now(),
    };
    this.emitItem(this.remember(item), true);
  }

  // ---- tool steps -------------------------------------------------------------------------------

  private async toolsPlanned(
    steps: ToolStep[],
    inflight: NonNullable<LoopState['inflight']>,
    spent: Pick<Task, 'usage' | 'costUsd'>,
  ): Promise<void> {
    const now = Date.now();
    const copy = structuredClone(inflight);
    // The reply is billed: its cost goes with the open turn, in the next record (a tool's start, the
    // reply's own before a read-only call, an approval), so a crash while its tools run cannot lose it.
    const cost = { usage: { ...spent.usage }, costUsd: spent.costUsd };
    if (this.task) this.task = { ...this.task, ...cost };
    // A reply that read a page taints the task from now on: the records that keep it as the open
    // turn (an approval's or a question's wait, a tool's start) say so too, or a crash before the
    // turn's checkpoint would leave the page in the conversation and the task clean.
    const tainted = readsWeb(inflight.assistant);
    this.deferred.push((doc, rec) => {
      rec.tasks[this.d.taskId].inflight = copy;
      if (tainted) rec.tasks[this.d.taskId].tainted = true;
      const t = findTask(doc, this.d.taskId);
      if (t) Object.assign(t, cost);
    });
    const items = steps.map((s) =>
      this.remember({
        kind: 'tool',
        id: s.id,
        taskId: this.d.taskId,
        tool: s.name,
        summary: s.summary,
        state: 'pending',
        input: inputForDisplay(s.input),
        createdAt: now,
      }),
    );
    this.journalCarry = {
      assistant: inflight.assistant,
      items: [...this.unsaved.values()].map((i) => ({ ...i })),
      cost,
      ...(tainted ? { tainted: true as const } : {}),
    };
    this.replyNote = undefined;
    for (const item of items) this.emitItem(item, true);
  }

  private async toolStarted(step: ToolStep, turn: number, readOnly = false): Promise<void> {
    const prev = this.unsaved.get(step.id) ?? this.openTools.get(step.id);
    // A read-only call runs without a record of its own: after a crash it is run again, not
    // reported unknown. What it finds rides with the turn's checkpoint (or with the record of a
    // later call with effects). Only the result of an earlier call with effects is made durable
    // first (in a record naming no call), so a crash now cannot turn that one into "unknown".
    if (!readOnly) {
      await this.journal(turn, step.id);
      if (prev && prev.kind === 'tool') this.emitItem(this.remember({ ...prev, state: 'running' }));
      return;
    }
    this.readOnlySteps.add(step.id);
    if (this.effectsCarried) await this.journal(turn);
    else if (this.journalCarry.assistant) this.noteReply(turn);
    if (prev && prev.kind !== 'tool') return;
    // A quick read goes from pending to its result (with the checkpoint) without an event of its
    // own for "running" (each is a journal record); a slow one (a search of a big folder) shows it.
    if (prev) this.remember({ ...prev, state: 'running' });
    const timer = setTimeout(() => {
      this.quietRunning.delete(step.id);
      const now = this.unsaved.get(step.id) ?? this.openTools.get(step.id);
      if (now?.kind === 'tool' && now.state === 'running') this.emitItem(now);
    }, SHOW_RUNNING_AFTER_MS);
    timer.unref();
    this.quietRunning.set(step.id, timer);
  }

  private async toolFinished(e: {
    step: ToolStep;
    end: StepEnd;
    inflight: NonNullable<LoopState['inflight']>;
    tainted: boolean;
  }): Promise<void> {
    const { step, end, tainted } = e;
    if (CRASH_IN_READ_ONLY_CALL === step.name && this.readOnlySteps.has(step.id)) {
      await this.replyNote?.durable;
      process.kill(process.pid, 'SIGKILL');
    }
    if (!this.readOnlySteps.delete(step.id)) this.effectsCarried = true;
    clearTimeout(this.quietRunning.get(step.id));
    this.quietRunning.delete(step.id);
    const endedAt = Date.now();
    const result = e.inflight.results[step.id];
    const inflight = structuredClone(e.inflight);
    this.deferred.push((_doc, rec) => {
      rec.tasks[this.d.taskId].inflight = inflight;
      if (tainted) rec.tasks[this.d.taskId].tainted = true;
    });
    this.journalCarry.results = { ...this.journalCarry.results, [step.id]: { result, end, endedAt } };
    // The record carrying the result carries its taint (a connector's output): recovery folds both.
    if (tainted) this.journalCarry.tainted = true;
    const prev = this.unsaved.get(step.id);
    const base =
      prev && prev.kind === 'tool'
        ? prev
        : {
            kind: 'tool' as const,
            id: step.id,
            taskId: this.d.taskId,
            tool: step.name,
            summary: step.summary,
            input: inputForDisplay(step.input),
            createdAt: endedAt,
          };
    // A long output is kept whole as a blob (durable before the record naming it); the item and
    // its events carry a bounded preview.
    const blob =
      end.output !== undefined && end.output.length > OUTPUT_PREVIEW
        ? await this.d.blobs.put(end.output).catch(() => undefined)
        : undefined;
    const item = this.remember({
      ...base,
      state: end.state,
      endedAt,
      ...(end.summary ? { summary: end.summary } : {}),
      ...(end.output !== undefined ? { output: end.output.slice(0, OUTPUT_PREVIEW) } : {}),
      ...(blob ? { outputBlob: blob } : {}),
    } as ThreadItem);
    // Shown once durable: with the next journal record or thread write.
    this.deferredEvents.push({ kind: 'item.updated', threadId: this.d.threadId, item: { ...item } });
  }

  private described(step: ToolStep, summary: string): void {
    const prev = this.unsaved.get(step.id) ?? this.openTools.get(step.id);
    if (prev?.kind !== 'tool') return;
    const item = this.remember({ ...prev, summary });
    if (!this.quietRunning.has(step.id)) this.emitItem(item);
  }

  // ---- turns and usage --------------------------------------------------------------------------

  private async checkpoint(state: LoopState): Promise<void> {
    await this.updateTask({ turns: state.turns, usage: state.usage, costUsd: state.costUsd }, (_doc, rec) => {
      rec.messages = state.messages;
      const r = rec.tasks[this.d.taskId];
      r.inflight = state.inflight;
      r.tainted = state.tainted || undefined;
      r.costRaisedUsd = state.costRaisedUsd;
      // The turn that took an answer is in the conversation now: the answer is kept there.
      if (r.question?.answer !== undefined && !state.inflight) r.question = undefined;
    });
  }

  private usage(e: { turns: number; usage: Task['usage']; costUsd: number }): void {
    if (!this.task) return;
    this.task = { ...this.task, turns: e.turns, usage: { ...e.usage }, costUsd: e.costUsd };
    this.publishNow([{ kind: 'task.updated', task: this.task }]);
  }

  private retrying(failure: Failure, delayMs: number): void {
    this.d.warn('model call failed; retrying', { taskId: this.d.taskId, message: failure.message, delayMs });
    // Shown in the thread at once; it goes into the thread file with the next write of this run
    // (thread.get shows it from `unsaved` meanwhile), like the run's other items.
    const text = retryNotice(failure, delayMs);
    this.emitItem(
      this.remember({
        kind: 'notice',
        id: newItemId('ntc'),
        taskId: this.d.taskId,
        text,
        transient: true,
        createdAt: Date.now(),
      }),
      true,
    );
  }

  private notice(text: string): void {
    this.emitItem(
      this.remember({ kind: 'notice', id: newItemId('ntc'), taskId: this.d.taskId, text, createdAt: Date.now() }),
      true,
    );
  }

  private webStep(s: WebStep): void {
    const now = Date.now();
    this.emitItem(this.remember({ kind: 'tool', ...s, taskId: this.d.taskId, createdAt: now, endedAt: now }), true);
  }
}

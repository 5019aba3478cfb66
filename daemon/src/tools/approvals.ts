// Approvals: a request names the exact action and its hash; any paired device may approve once,
// deny, or allow the same kind of call for the rest of the task. Single use, expiring, and a
// decision must carry the hash of the action it approves. A replayed decision does nothing.
import crypto from 'node:crypto';
import type { Approval, ServerEvent } from '../../../shared/src/index.js';
import type { KeptDecision } from '../store/open-approvals.js';
import { CommandError } from '../util/command-error.js';
import { HIDDEN_TEXT, UNSAFE_TEXT } from '../util/text.js';

/** The class of a "may this task go on?" approval (tools/ask-to-continue.ts): never granted, takes no note. */
export const CONTINUE_CLASS = 'continue:';

export type ApprovalOutcome =
  | { result: 'approve' | 'allow_task'; by: string }
  | { result: 'deny'; by: string; note?: string }
  | { result: 'expired' | 'cancelled' };

interface Pending {
  approval: Approval;
  actionClass: string;
  callId?: string;
  resolve(o: ApprovalOutcome): void;
  timer: NodeJS.Timeout;
  cleanup(): void;
}

/** For the model, after "denied": what the person said instead, or the standing advice. */
export function deniedAdvice(outcome: { note?: string }, otherwise: string): string {
  return outcome.note ? `Instead, the user said: ${JSON.stringify(outcome.note)}. Do what they said.` : otherwise;
}

export class Approvals {
  private pending = new Map<string, Pending>();
  /** Decided or expired ids, so a replay gets a clear "already decided" instead of "unknown". */
  private finished = new Map<string, Approval['state']>();
  /** taskId → granted action classes ("allow for the rest of this task"), with who granted them. */
  private grants = new Map<string, Map<string, string>>();

  constructor(
    /** Publishes an approval's event; a device's decision on a tool call comes with it, to be kept in the same record. */
    private readonly emit: (e: ServerEvent, decided?: KeptDecision) => Promise<number>,
    private readonly expireMinutes: () => number,
    /** Takes the known secrets out of a text: an approval is shown (and pushed) without them. */
    private readonly redactor?: () => (text: string) => string,
    /** A decision already given on this call before a crash (acknowledged, so it stands). */
    private readonly keptDecision?: (taskId: string, callId: string, hash: string) => KeptDecision | undefined,
  ) {}

  grantFor(taskId: string, actionClass: string): string | undefined {
    return this.grants.get(taskId)?.get(actionClass);
  }

  forThread(threadId: string): Approval[] {
    return [...this.pending.values()].map((p) => p.approval).filter((a) => a.threadId === threadId);
  }

  all(): Approval[] {
    return [...this.pending.values()].map((p) => p.approval);
  }

  /** Ask the user; resolves when a device decides, the approval expires, or `signal` aborts. */
  request(input: {
    taskId: string;
    threadId: string;
    tool: string;
    summary: string;
    action: Record<string, unknown>;
    hash: string;
    actionClass: string;
    signal: AbortSignal;
    /** The tool call asking: a decision on it is kept with its reply and stands after a crash. */
    callId?: string;
  }): Promise<ApprovalOutcome> {
    const kept = input.callId ? this.keptDecision?.(input.taskId, input.callId, input.hash) : undefined;
    if (kept && kept.actionClass === input.actionClass) {
      // Decided and acknowledged before a crash: the person is not asked again, and a denial's words reach the task.
      if (kept.outcome.result === 'allow_task') this.grant(input.taskId, input.actionClass, kept.outcome.by);
      return Promise.resolve(kept.outcome);
    }
    const now = Date.now();
    const approval: Approval = {
      id: `apr_${crypto.randomBytes(12).toString('base64url')}`,
      taskId: input.taskId,
      threadId: input.threadId,
      tool: input.tool,
      // Shown with [redacted] where a known secret is (the model may have written one into the
      // call); the hash is of the real action, so a decision still binds to exactly that.
      summary: this.shown(input.summary),
      action: this.shown(input.action),
      hash: input.hash,
      createdAt: now,
      expiresAt: now + Math.round(this.expireMinutes() * 60_000),
      state: 'pending',
    };
    return new Promise<ApprovalOutcome>((resolve) => {
      const onAbort = () => this.finish(approval.id, 'denied', undefined, { result: 'cancelled' });
      const timer = setTimeout(
        () => this.finish(approval.id, 'expired', undefined, { result: 'expired' }),
        approval.expiresAt - now,
      );
      this.pending.set(approval.id, {
        approval,
        actionClass: input.actionClass,
        ...(input.callId ? { callId: input.callId } : {}),
        resolve,
        timer,
        cleanup: () => input.signal.removeEventListener('abort', onAbort),
      });
      if (input.signal.aborted) {
        onAbort();
        return;
      }
      input.signal.addEventListener('abort', onAbort, { once: true });
      void this.emit({ kind: 'approval.requested', approval }).catch(() => undefined);
    });
  }

  /** `value` with the known secrets out of every string in it. */
  private shown<T>(value: T): T {
    const redact = this.redactor?.();
    if (!redact) return value;
    const walk = (v: unknown): unknown =>
      typeof v === 'string'
        ? redact(v)
        : Array.isArray(v)
          ? v.map(walk)
          : v && typeof v === 'object'
            ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]))
            : v;
    return walk(value) as T;
  }

  private finish(
    id: string,
    state: Approval['state'],
    by: string | undefined,
    outcome: ApprovalOutcome,
  ): Approval | undefined {
    const p = this.pending.get(id);
    if (!p) return undefined;
    this.pending.delete(id);
    clearTimeout(p.timer);
    p.cleanup();
    this.finished.set(id, state);
    if (this.finished.size > 10_000) this.finished.delete(this.finished.keys().next().value!);
    const note = outcome.result === 'deny' ? outcome.note : undefined;
    const approval: Approval = { ...p.approval, state, ...(by ? { decidedBy: by } : {}), ...(note ? { note } : {}) };
    const decided: KeptDecision | undefined =
      p.callId && (outcome.result === 'approve' || outcome.result === 'allow_task' || outcome.result === 'deny')
        ? { taskId: p.approval.taskId, callId: p.callId, hash: p.approval.hash, actionClass: p.actionClass, outcome }
        : undefined;
    void this.emit({ kind: 'approval.resolved', approval }, decided).catch(() => undefined);
    p.resolve(outcome);
    return approval;
  }

  /** A device's decision (approval.decide). Throws CommandError for unknown, replayed or mismatched decisions. */
  decide(
    approvalId: string,
    hash: string,
    decision: 'approve' | 'deny' | 'allow_task',
    device: { id: string; name: string },
    note?: string,
  ): Approval {
    if (note !== undefined && decision !== 'deny')
      throw new CommandError('bad_request', 'A note goes only with a denial (it tells the agent what to do instead).');
    // A device's words reach phones, the model and the audit log: no terminal escapes, no marks
    // that reorder or hide text, nothing drawn as nothing (tag characters a model reads as words,
    // soft hyphens, fillers); line breaks stay.
    const keepLineBreak = (c: string) => (c === '\n' ? c : '');
    const words = note?.replace(HIDDEN_TEXT, keepLineBreak).replace(UNSAFE_TEXT, keepLineBreak).trim() || undefined;
    const p = this.pending.get(approvalId);
    if (!p) {
      const state = this.finished.get(approvalId);
      if (state)
        throw new CommandError(
          'conflict',
          `This approval was already ${state === 'expired' ? 'expired' : 'decided'}; nothing was done.`,
        );
      throw new CommandError('not_found', 'No such approval is waiting.');
    }
    if (!crypto.timingSafeEqual(Buffer.from(sha(hash)), Buffer.from(sha(p.approval.hash)))) {
      throw new CommandError(
        'conflict',
        'The decision does not match the action waiting for approval (the action changed); look at it again.',
      );
    }
    // "May it go on?" ends the task on a no: there is no agent to read a note, so the words are
    // refused here and the phone sends them to the thread as a message (never lost).
    if (words !== undefined && p.actionClass.startsWith(CONTINUE_CLASS))
      throw new CommandError(
        'bad_request',
        'This asks whether the task may go on: a denial stops it and takes no note. Send your words as a message.',
      );
    const by = `${device.name} (${device.id})`;
    const actionClass = p.actionClass;
    if (decision === 'allow_task') this.grant(p.approval.taskId, actionClass, by);
    const outcome: ApprovalOutcome =
      decision === 'deny' ? { result: 'deny', by, ...(words ? { note: words } : {}) } : { result: decision, by };
    return this.finish(approvalId, decision === 'deny' ? 'denied' : 'approved', by, outcome)!;
  }

  private grant(taskId: string, actionClass: string, by: string): void {
    let g = this.grants.get(taskId);
    if (!g) this.grants.set(taskId, (g = new Map()));
    g.set(actionClass, by);
  }

  /** Drop every task's grants whose class `lapses` says no longer covers what it did (files it runs changed). */
  lapseGrants(lapses: (actionClass: string, taskId: string) => boolean): void {
    for (const [taskId, g] of this.grants)
      for (const actionClass of [...g.keys()]) if (lapses(actionClass, taskId)) g.delete(actionClass);
  }

  /** Forget a finished task's grants. */
  endTask(taskId: string): void {
    this.grants.delete(taskId);
  }

  stop(): void {
    for (const id of [...this.pending.keys()]) this.finish(id, 'denied', undefined, { result: 'cancelled' });
  }
}

const sha = (s: string) => crypto.createHash('sha256').update(s).digest('hex');

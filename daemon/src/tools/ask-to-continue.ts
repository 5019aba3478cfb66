// "May this task go on?" as an approval: at a spending limit or a suspected runaway the agent loop
// pauses the task and every paired device gets an approval (pushed like any other) showing the
// evidence. Approve lets it continue; deny, expiry or a cancel ends it. An answer stands after a
// crash: the resumed run that reaches the same question takes it.
import crypto from 'node:crypto';
import type { ContinueAnswer, ContinueRequest } from '../agent/tool-runtime.js';
import { type Approvals, CONTINUE_CLASS } from './approvals.js';

export function askToContinue(approvals: Approvals) {
  return async (
    req: ContinueRequest,
    ctx: { taskId: string; threadId: string; signal: AbortSignal },
  ): Promise<ContinueAnswer> => {
    const action = { kind: req.kind, question: req.summary, ...req.details };
    const hash = crypto.createHash('sha256').update(JSON.stringify(action)).digest('hex');
    const outcome = await approvals.request({
      taskId: ctx.taskId,
      threadId: ctx.threadId,
      tool: req.kind === 'spend' ? 'spending limit' : 'runaway check',
      summary: req.summary,
      action,
      hash,
      // Never granted for the rest of the task: each limit asks again.
      actionClass: `${CONTINUE_CLASS}${hash}`,
      signal: ctx.signal,
      // The same question at the same point of the task: a decision acknowledged before a crash is
      // kept (store/open-approvals.ts) and the resumed run takes it instead of asking again.
      ...(req.at !== undefined ? { callId: `continue:${req.at}:${hash}` } : {}),
    });
    if (outcome.result === 'approve' || outcome.result === 'allow_task') return 'continue';
    if (outcome.result === 'deny') return 'stop';
    return outcome.result;
  };
}

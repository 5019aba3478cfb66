// The journal records what changed in a thread, never the whole thread: a thread rebuilt from its
// first record and every delta since equals the thread in memory, whatever the change did: tasks
// and per-task records changed in place (a field, a nested object, a list grown in place, a key
// removed), added, removed or moved; items and messages appended, replaced or cut; the rest of the
// agent record and the meta changed. Random changes, checked after each one.
import { describe, expect, it } from 'vitest';
import type { Task, ThreadItem } from '../../../shared/src/index.js';
import { applyDelta, diffThread, shadowOf } from '../../src/store/thread-delta.js';
import type { ThreadDoc } from '../../src/store/thread-doc.js';

/** A small seeded generator, so a failure names the seed that makes it again. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Records = Record<string, Record<string, unknown>>;
const agentOf = (doc: ThreadDoc) => doc.agent as { messages: unknown[]; tasks: Records; [k: string]: unknown };

function newTask(n: number): Task {
  return {
    id: `thr_t.task_${n}`,
    threadId: 'thr_t',
    state: 'queued',
    messageId: `m${n}`,
    createdAt: 1000 + n,
    turns: 0,
    usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 },
    costUsd: 0,
  };
}

const item = (n: number, text: string): ThreadItem => ({ kind: 'user', id: `i${n}`, taskId: 't', text, createdAt: n });

function change(doc: ThreadDoc, rnd: () => number, step: number): void {
  const pick = <T>(list: T[]): T | undefined => list[Math.floor(rnd() * list.length)];
  const a = agentOf(doc);
  const t = pick(doc.tasks);
  const rec = t ? a.tasks[t.id] : undefined;
  switch (Math.floor(rnd() * 16)) {
    case 0: {
      const task = newTask(step);
      doc.tasks.push(task);
      a.tasks[task.id] = {
        start: { role: 'user', content: [{ type: 'text', text: `start ${step}` }] },
        started: false,
      };
      doc.items.push(item(step, `message ${step}`));
      return;
    }
    case 1:
      if (t) t.state = pick(['running', 'done', 'failed', 'interrupted'] as const)!;
      return;
    case 2:
      if (t) t.usage.inputTokens += 7; // a nested object changed in place
      return;
    case 3:
      if (t) (t.changedFiles ??= []).push(`file-${step}`); // a list grown in place
      return;
    case 4:
      if (t) t.reason = step % 2 ? `why ${step}` : undefined;
      if (t && step % 3 === 0) delete t.reason;
      return;
    case 5:
      if (rec) rec.inflight = { turn: step, calls: [{ id: `c${step}`, input: { path: `p${step}` } }] };
      return;
    case 6:
      if (rec?.inflight) ((rec.inflight as { calls: unknown[] }).calls as unknown[]).push({ id: `d${step}` });
      return;
    case 7:
      if (rec) delete rec.inflight;
      if (rec) rec.attempt = `att_${step}`;
      return;
    case 8:
      // The start is replaced, never changed in place.
      if (rec) rec.start = { role: 'user', content: [{ type: 'text', text: `edited ${step}` }] };
      return;
    case 9:
      if (t && rnd() < 0.3) {
        doc.tasks.splice(doc.tasks.indexOf(t), 1);
        delete a.tasks[t.id];
      }
      return;
    case 10:
      if (doc.tasks.length > 1) doc.tasks.push(doc.tasks.shift()!); // moved
      return;
    case 11:
      a.messages.push({ role: step % 2 ? 'user' : 'assistant', content: [{ type: 'text', text: `m${step}` }] });
      return;
    case 12: {
      const last = a.messages.at(-1) as { content: Array<{ text: string }> } | undefined;
      if (last) last.content[0].text += ' more'; // the last message changed in place
      return;
    }
    case 13:
      if (a.messages.length > 2) a.messages.length -= 2; // cut
      return;
    case 14: {
      if (doc.items.length && rnd() < 0.5) doc.items[doc.items.length - 1] = item(step, 'replaced');
      else if (doc.items.length && rnd() < 0.3) doc.items.splice(0, 1);
      else doc.items.push(item(step, `item ${step}`));
      return;
    }
    default:
      if (rnd() < 0.5) doc.meta.title = `title ${step}`;
      else a.memo = { step, notes: [step] };
  }
}

describe('thread deltas', () => {
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    it(`a thread rebuilt from its deltas equals the thread (seed ${seed})`, () => {
      const rnd = random(seed);
      const doc: ThreadDoc = {
        schema: 1,
        meta: { id: 'thr_t', title: 'T', state: 'active', createdAt: 1, updatedAt: 1 },
        items: [],
        tasks: [],
        agent: { v: 1, messages: [], tasks: {} },
      };
      const replica = JSON.parse(JSON.stringify(doc)) as ThreadDoc;
      const shadow = shadowOf(doc);
      for (let step = 0; step < 400; step++) {
        change(doc, rnd, step);
        const delta = diffThread(doc, shadow);
        if (delta) applyDelta(replica, JSON.parse(JSON.stringify(delta)));
        // As JSON would hold it (key order aside: the journal's readers never depend on it).
        expect(replica, `seed ${seed}, step ${step}`).toEqual(JSON.parse(JSON.stringify(doc)));
        // Recorded: asked again with nothing changed since, nothing to record.
        expect(diffThread(doc, shadow)).toBeUndefined();
      }
      expect(doc.tasks.length).toBeGreaterThan(5);
    });
  }
});

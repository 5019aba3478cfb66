// A denial's note reaches every phone and the model: besides escapes and direction marks, it loses
// every character drawn as nothing (tag characters a model reads as words, soft hyphens, the
// combining grapheme joiner, Hangul fillers); line breaks, accents and emoji stay.
import { afterEach, expect, it } from 'vitest';
import type { ServerEvent } from '../../../shared/src/index.js';
import { Approvals } from '../../src/tools/approvals.js';

let approvals: Approvals | undefined;
afterEach(() => approvals?.stop());

it('a note loses hidden characters, keeps its line breaks, accents and emoji', async () => {
  const events: ServerEvent[] = [];
  approvals = new Approvals(
    async (e) => (events.push(e), 0),
    () => 30,
  );
  const outcome = approvals.request({
    taskId: 'task_1',
    threadId: 'thr_1',
    tool: 'shell',
    summary: 'Run rm -rf Documents',
    action: { tool: 'shell', argv: ['rm', '-rf', 'Documents'] },
    hash: 'h1',
    actionClass: 'shell:["rm","-rf","Documents"]',
    signal: new AbortController().signal,
  });
  const pending = approvals.all()[0];
  // Tag characters spelling "rm" (U+E0072 U+E006D) after a language tag, a soft hyphen, a CGJ,
  // Hangul fillers (U+115F, U+3164, U+FFA0), a variation selector on a letter, a private-use character.
  const hidden = '\u{e0001}\u{e0072}\u{e006d}\u00ad\u034f\u115f\u3164\uffa0\ufe0f\ue000';
  const note = `Only ${hidden}list them\u202e\u0007\nthen café ❤️ 👍`;
  approvals.decide(pending.id, pending.hash, 'deny', { id: 'dev_1', name: 'Phone' }, note);
  const kept = 'Only list them\nthen café ❤️ 👍';
  expect(await outcome).toEqual({ result: 'deny', by: 'Phone (dev_1)', note: kept });
  expect(events.find((e) => e.kind === 'approval.resolved')).toMatchObject({ approval: { note: kept } });
});

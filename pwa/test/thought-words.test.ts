// A folded thought says what it holds: the summary; for a redacted_thinking block (encrypted by
// the API) that the thinking was kept private; for an ordinary block with no summary, only that.
import { expect, it } from 'vitest';
import type { ThreadItem } from '../../shared/src/index.js';
import { ThinkingItem } from '../src/screens/ThinkingItem.js';
import { toHtml } from './vnode-text.js';

type Thought = Extract<ThreadItem, { kind: 'thought' }>;
const thought = (f: Partial<Thought>): Thought => ({
  kind: 'thought',
  id: 'itm_1',
  taskId: 'tsk_1',
  text: '',
  ms: 4000,
  createdAt: 0,
  ...f,
});
const body = (t: Thought) => toHtml(ThinkingItem({ item: t }));

it('shows the summary of an ordinary thought', () => {
  expect(body(thought({ text: 'The user wants the capital.' }))).toContain(
    '<p class="thought-text plain">The user wants the capital.</p>',
  );
});

it("says a redacted thought was kept private by the model's safety systems", () => {
  expect(body(thought({ redacted: true }))).toContain("kept private by the model's safety systems");
});

it('an ordinary thought without a summary does not claim the safety systems hid it', () => {
  const html = body(thought({ text: '' }));
  expect(html).not.toContain('safety systems');
  expect(html).not.toContain('kept private');
  expect(html).toContain('The model gave no summary of this thinking.');
});

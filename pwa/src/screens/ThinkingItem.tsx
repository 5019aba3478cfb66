// The model's thinking in a thread: folded to "Thought for 12 s", the summary inside when opened.
import type { ThreadItem } from '../../../shared/src/index.js';

type Thought = Extract<ThreadItem, { kind: 'thought' }>;

export function thoughtLabel(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 1 ? 'Thought briefly' : s < 60 ? `Thought for ${s} s` : `Thought for ${Math.round(s / 60)} min`;
}

export function ThinkingItem({ item }: { item: Thought }) {
  return (
    <details class="thought" data-item={item.id}>
      <summary>{thoughtLabel(item.ms)}</summary>
      {item.redacted ? (
        // A redacted_thinking block: the API encrypted it.
        <p class="thought-text muted">The thinking was kept private by the model's safety systems.</p>
      ) : item.text ? (
        <p class="thought-text plain">{item.text}</p>
      ) : (
        // An ordinary block that came without a summary: nothing was hidden from the user.
        <p class="thought-text muted">The model gave no summary of this thinking.</p>
      )}
    </details>
  );
}

// The exact action behind an approval card's "Details": labelled lines, a command's arguments one per
// line, each string between quotes (lib/action-lines.ts says why). Drawn left to right in the order
// the characters run, right-to-left letters included, as the rest of the card.
import { useMemo } from 'preact/hooks';
import { actionFields, type ShownField, type ShownValue } from '../lib/action-lines.js';

export function ExactAction({ action, tool }: { action: Record<string, unknown>; tool: string }) {
  const fields = useMemo(() => actionFields(action, tool), [action, tool]);
  return (
    <div class="approval-action" dir="ltr">
      <Fields fields={fields} />
    </div>
  );
}

function Fields({ fields }: { fields: ShownField[] }) {
  return (
    <ul class="action-fields">
      {fields.map((f, i) => (
        <li key={i}>
          <bdo dir="ltr" class="action-label">
            {f.label}:
          </bdo>{' '}
          <Value value={f.value} />
        </li>
      ))}
    </ul>
  );
}

function Value({ value }: { value: ShownValue }) {
  switch (value.kind) {
    case 'string':
      // The quotes are the argument's edges: a space or a quote inside it is part of it.
      return (
        <code class="action-string">
          <bdo dir="ltr">"{value.text}"</bdo>
        </code>
      );
    case 'literal':
      return <code>{value.text}</code>;
    case 'list':
      // Empty, it is written as JSON writes it: the field is there, with nothing in it.
      return value.items.length === 0 ? (
        <code>[]</code>
      ) : (
        <ol class="action-list">
          {value.items.map((item, i) => (
            <li key={i}>
              <Value value={item} />
            </li>
          ))}
        </ol>
      );
    case 'fields':
      return value.fields.length === 0 ? <code>{'{}'}</code> : <Fields fields={value.fields} />;
  }
}

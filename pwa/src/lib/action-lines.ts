// An approval's exact action (what the decision is bound to) laid out for reading behind "Details":
// labelled lines, a command's arguments one per line, every other field as "name: value". Nothing is
// dropped or reworded. Each string is shown between quotes on a line of its own, so a space, a quote
// or nothing at all inside an argument cannot read as two arguments or as none; JSON's escaping
// ("print(\"hi\")") is not needed for that. Invisible, control and direction-changing characters
// (a line break inside an argument included) are shown as ⟨U+XXXX⟩ markers.
import { visibleText } from '../../../shared/src/visible-text.js';

export type ShownValue =
  /** A string, with its hidden characters as markers: shown between quotes. */
  | { kind: 'string'; text: string }
  /** A number, true, false or null, as JSON writes it. */
  | { kind: 'literal'; text: string }
  | { kind: 'list'; items: ShownValue[] }
  | { kind: 'fields'; fields: ShownField[] };

export interface ShownField {
  /** Plain words for the fields every action of its kind has; otherwise the field's own name. */
  label: string;
  value: ShownValue;
}

/** The action's own fields that read better in words (the rest keep their names). */
const LABELS = new Map<string, string>(
  Object.entries({
    tool: 'Tool',
    program: 'Program',
    programTarget: 'Program (link target)',
    interpreter: 'Interpreter',
    argv: 'Arguments',
    cwd: 'Folder',
    sandbox: 'Sandbox',
    path: 'Path',
    from: 'From',
    to: 'To',
    connector: 'Connector',
    serverTool: 'Connector tool',
    arguments: 'Arguments',
  }),
);

export function shownValue(v: unknown): ShownValue {
  if (typeof v === 'string') return { kind: 'string', text: visibleText(v) };
  if (Array.isArray(v)) return { kind: 'list', items: v.map(shownValue) };
  if (v !== null && typeof v === 'object')
    return {
      kind: 'fields',
      fields: Object.entries(v).map(([name, value]) => ({ label: visibleText(name), value: shownValue(value) })),
    };
  // Numbers and booleans as JSON writes them (what the computer hashed); anything else cannot come from JSON.
  return { kind: 'literal', text: JSON.stringify(v) ?? String(v) };
}

/**
 * The action's fields in their order. `tool` is left out when it is the tool the card's heading
 * already names ("Exact action (shell)"); any other value would be shown.
 */
export function actionFields(action: Record<string, unknown>, tool: string): ShownField[] {
  return Object.entries(action)
    .filter(([name, value]) => !(name === 'tool' && value === tool))
    .map(([name, value]) => ({ label: LABELS.get(name) ?? visibleText(name), value: shownValue(value) }));
}

// Assistant text as a phone sees it stream in, from the events it receives.
import type { ServerEvent } from '../../../shared/src/index.js';

/**
 * Each assistant item's text from its item.added (the text so far), with its item.delta events
 * appended; item.updated (the saved item, replacing it whole) is left out. `itemId` picks one item.
 */
export function streamedText(events: ServerEvent[], itemId?: string): string {
  const texts = new Map<string, string>();
  for (const e of events) {
    if (e.kind === 'item.added' && e.item.kind === 'assistant') texts.set(e.item.id, e.item.text);
    else if (e.kind === 'item.delta') texts.set(e.itemId, (texts.get(e.itemId) ?? '') + e.delta);
  }
  return itemId ? (texts.get(itemId) ?? '') : [...texts.values()].join('');
}

/** The streamed-text events among `events` (item.added of an assistant item, item.delta). */
export const streamedEvents = (events: ServerEvent[]) =>
  events.filter((e) => (e.kind === 'item.added' && e.item.kind === 'assistant') || e.kind === 'item.delta');

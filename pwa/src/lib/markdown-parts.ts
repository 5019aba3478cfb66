// A streaming answer grows at its end: split its Markdown where the renderer starts afresh, so each
// update re-renders only the last part (the earlier parts keep their text, so their memoised
// rendering is reused), and the finished answer is the same parts: nothing is rendered again then.

const FENCE = /^\s{0,3}(```+|~~~+)/;

/**
 * The text cut at blank lines outside code fences that are followed by an unindented line: there
 * renderMarkdown's paragraphs, lists, quotes and tables all end, so rendering the parts one after the
 * other gives exactly the blocks the whole text gives.
 */
export function markdownParts(text: string): string[] {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const parts: string[] = [];
  let start = 0;
  let fence: string | undefined;
  let blank = false;
  let content = false; // the current part has more than blank lines
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (fence !== undefined) {
      if (line.trim().startsWith(fence)) fence = undefined;
      continue;
    }
    if (!line.trim()) {
      blank = true;
      continue;
    }
    if (blank && content && !/^\s/.test(line)) {
      parts.push(lines.slice(start, i).join('\n'));
      start = i;
    }
    blank = false;
    content = true;
    const m = FENCE.exec(line);
    if (m && /^\s/.test(line)) {
      // An indented fence may belong to a list item (then it need not close before the list ends):
      // no more cuts, the rest is one part.
      parts.push(lines.slice(start).join('\n'));
      return parts;
    }
    if (m) fence = m[1];
  }
  parts.push(lines.slice(start).join('\n'));
  return parts;
}

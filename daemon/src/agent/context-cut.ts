// The last way to fit a conversation into the context window (context-window.ts): the newest turn's
// tool results, more than the whole window by themselves (one reply of many large reads), cut to one
// common length; each keeps its beginning, images while they fit, and says what was left out and
// how to read less.
import {
  blockUnits,
  estimateTokens,
  IMAGE_CHARS,
  prefixUnits,
  scanUnits,
  UNITS_PER_TOKEN,
} from './context-estimate.js';
import type { ImageBlock, ModelRequest, TextBlock, ToolResultBlock } from './wire.js';

/** What a shortened or cut result keeps at least: where a connector's untrusted-output mark is. */
export const KEEP_HEAD = 300;

/** The end of a result of the newest turn cut to fit: what is left out, and how to read less. */
export const cutMarker = (kept: number, n: number, imagesLeftOut = 0, images = 0) => {
  const parts = [
    ...(kept < n ? [`the first ${kept} of ${n} chars are above`] : []),
    ...(imagesLeftOut ? [`${imagesLeftOut} of ${images} ${images === 1 ? 'image' : 'images'} left out`] : []),
  ];
  return `[output shortened to fit the context window: ${parts.join('; ')}. Read a smaller part (fs_read with offset and limit, a narrower search or command), or fewer at once.]`;
};

interface Part {
  block: TextBlock | ImageBlock;
  /** For text: units of its first n characters. */
  unitsOf?: (n: number) => number;
}

interface Cuttable {
  block: ToolResultBlock;
  parts: Part[];
  units: number;
  textChars: number;
  images: number;
}

/** A cut of one result: its parts in order, text up to `cap` characters in all, an image counting IMAGE_CHARS of it. */
interface Cut {
  content: Array<TextBlock | ImageBlock>;
  units: number;
  keptChars: number;
  /** Images left out, by their place in `parts`. */
  dropped: number[];
}

function cutTo(c: Cuttable, cap: number, keepImages = new Set<number>()): Cut {
  const content: Array<TextBlock | ImageBlock> = [];
  const dropped: number[] = [];
  let left = cap;
  let keptChars = 0;
  let units = 20;
  c.parts.forEach((p, k) => {
    if (p.block.type === 'image') {
      if (left >= IMAGE_CHARS || keepImages.has(k)) {
        content.push(p.block);
        units += IMAGE_CHARS;
        if (!keepImages.has(k)) left -= IMAGE_CHARS;
      } else dropped.push(k);
      return;
    }
    const n = Math.min(left, p.block.text.length);
    if (n <= 0) return;
    left -= n;
    keptChars += n;
    content.push(n === p.block.text.length ? p.block : { type: 'text', text: p.block.text.slice(0, n) });
    units += p.unitsOf?.(n) ?? 0;
  });
  return { content, units, keptChars, dropped };
}

const cutWhole = (c: Cuttable, cut: Cut) => cut.keptChars === c.textChars && cut.dropped.length === 0;

/**
 * Cut the tool results of messages[from…] down to one common length, so together they fit; each
 * keeps its beginning (at least KEEP_HEAD characters, where a connector's untrusted-output mark is)
 * and ends with cutMarker. Images count as IMAGE_CHARS of that length and are kept while they fit,
 * the first ones first. Small results are cut too when the common length falls below them.
 * Returns whether anything was cut.
 */
export function cutNewest(
  req: Pick<ModelRequest, 'system' | 'tools' | 'messages'>,
  from: number,
  limit: number,
): boolean {
  const cuttable: Cuttable[] = [];
  for (let i = from; i < req.messages.length; i++)
    for (const block of req.messages[i].content) {
      if (block.type !== 'tool_result') continue;
      const parts: Part[] = block.content.map((p) =>
        p.type === 'text' ? { block: p, unitsOf: prefixUnits(p.text) } : { block: p },
      );
      const textChars = block.content.reduce((n, p) => n + (p.type === 'text' ? p.text.length : 0), 0);
      const images = block.content.length - block.content.filter((p) => p.type === 'text').length;
      if (textChars <= KEEP_HEAD && !images) continue;
      cuttable.push({ block, parts, units: blockUnits(block), textChars, images });
    }
  if (!cuttable.length) return false;
  const whole = estimateTokens(req) * UNITS_PER_TOKEN - cuttable.reduce((n, c) => n + c.units, 0);
  const markerUnits = scanUnits(cutMarker(1_000_000, 1_000_000, 1_000, 1_000)) + 4;
  /** A result's units at a common length: whole when that keeps all of it, else cut with the marker. */
  const unitsAt = (c: Cuttable, cap: number) => {
    const cut = cutTo(c, cap);
    return cutWhole(c, cut) ? c.units : Math.min(c.units, cut.units + markerUnits);
  };
  const longest = Math.max(...cuttable.map((c) => c.textChars + c.images * IMAGE_CHARS));
  // A little under the limit: the request adds the web tools and their note after the fit.
  const target = Math.floor(limit * 0.99) * UNITS_PER_TOKEN;
  let room = target - whole;
  let cut = false;
  // The estimate of each cut is measured on the text kept, so one round is near exact; a few more
  // rounds take off what the marker and rounding missed.
  for (let round = 0; round < 4; round++) {
    // The longest common length whose results fit the room, by halving.
    let low = KEEP_HEAD;
    let high = longest;
    while (low < high) {
      const mid = Math.ceil((low + high) / 2);
      if (cuttable.reduce((n, c) => n + unitsAt(c, mid), 0) <= room) low = mid;
      else high = mid - 1;
    }
    const cuts = cuttable.map((c) => cutTo(c, low));
    const costOf = (c: Cuttable, cut: Cut) => (cutWhole(c, cut) ? c.units : cut.units + markerUnits);
    // What is left of the room keeps images the common length left out, the first ones first.
    let spare = room - cuttable.reduce((n, c, k) => n + costOf(c, cuts[k]), 0);
    cuttable.forEach((c, k) => {
      const keep = new Set<number>();
      for (const image of cuts[k].dropped) {
        if (spare < IMAGE_CHARS - markerUnits) break;
        const withImage = cutTo(c, low, new Set([...keep, image]));
        const more = costOf(c, withImage) - costOf(c, cuts[k]);
        if (more > spare) break;
        keep.add(image);
        spare -= more;
        cuts[k] = withImage;
      }
    });
    cuttable.forEach((c, k) => {
      const { content, keptChars, dropped } = cuts[k];
      if (cutWhole(c, cuts[k])) {
        c.block.content = c.parts.map((p) => p.block);
        return;
      }
      const marker = cutMarker(keptChars, c.textChars, dropped.length, c.images);
      const lastPart = content.at(-1);
      // Appended to a text cut short; after a whole block (a connector's mark), a block of its own.
      if (lastPart?.type === 'text' && !c.parts.some((p) => p.block === lastPart))
        content[content.length - 1] = { type: 'text', text: `${lastPart.text}\n${marker}` };
      else content.push({ type: 'text', text: marker });
      c.block.content = content;
      cut = true;
    });
    const over = estimateTokens(req) * UNITS_PER_TOKEN - target;
    if (over <= 0) break;
    room -= over;
  }
  return cut;
}

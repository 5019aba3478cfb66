// Put something back at a path without following any link on the way (undo and trash restore).
// The path was recorded as a real path, so every folder on it must be a real folder now. On Linux
// the folders are opened one by one without following links and the final write goes through the
// opened folder itself (/proc/self/fd/N/name): a folder swapped for a link between the check and
// the write cannot redirect it. Elsewhere the folder is checked before and after the write.
import path from 'node:path';
import { inFolder } from './no-follow.js';
import { ToolError } from './util.js';

/** Throws a ToolError when `target` may not be written now (the roots check). */
export type PlaceCheck = (target: string) => Promise<void>;

const LINK_REFUSAL = 'a folder on its path was replaced by a link since the task; left as it is';

/**
 * Run `write(destination)` where destination names `target` through a folder reached without
 * following links, after `check` confirmed target may be written (roots, state folder).
 */
export async function placeContained(
  target: string,
  check: PlaceCheck,
  write: (destination: string) => Promise<void>,
): Promise<void> {
  if (!path.isAbsolute(target) || path.normalize(target) !== target) throw new ToolError(`Bad path ${target}.`);
  await check(target);
  const name = path.basename(target);
  await inFolder(path.dirname(target), { create: true, refusal: LINK_REFUSAL }, (folder) => write(`${folder}/${name}`));
}

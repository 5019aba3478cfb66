// The folders config.json's "roots" lists, for `errand allow` and `errand disallow` to change. A
// "roots" that is not a list of paths is refused as start refuses it, naming the key: never quietly
// replaced by a list, nor its other entries dropped, when the change is written back.
import { z } from 'zod';
import { ConfigError, describeIssue } from '../../config/load.js';

const RootsShape = z.array(z.string());

/** config.json's roots (none when it has no "roots"); throws a ConfigError naming the key and the fix. */
export function rootsInConfig(raw: Record<string, unknown>, file: string, command: string): string[] {
  if (raw.roots === undefined) return [];
  const parsed = RootsShape.safeParse(raw.roots);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new ConfigError(
    `${describeIssue({ ...issue, path: ['roots', ...issue.path] }, file)}. Nothing was changed: make "roots" a list of folder paths, like ["/home/you/Documents"] (or remove it), then run \`${command}\` again.`,
  );
}

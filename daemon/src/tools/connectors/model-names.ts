// Model-facing names for connector tools. The model API allows [a-zA-Z0-9_-]{1,64} and refuses a
// request whose tool names repeat, so `send.mail` and `send_mail`, two long names that differ after
// 64 characters, or connector `a` tool `b__c` and connector `a__b` tool `c` must not share a name:
// every tool of such a group gets a short hash of its connector and own name, so a call always
// reaches the tool whose description the model read.
import { createHash } from 'node:crypto';

const MAX = 64;

/** The plain name: `<connector>__<tool>`, other characters as `_`, clipped to 64. */
export function modelName(connector: string, tool: string): string {
  return `${connector}__${tool.replace(/[^A-Za-z0-9_-]/g, '_')}`.slice(0, MAX);
}

/** The plain name with a suffix that depends only on this tool, so it stays the same across requests. */
export function hashedModelName(connector: string, tool: string): string {
  const h = createHash('sha256').update(`${connector}\0${tool}`).digest('hex').slice(0, 10);
  return `${modelName(connector, tool).slice(0, MAX - h.length - 1)}_${h}`;
}

/**
 * A unique model name for each entry, in order. A name that two entries share becomes the hashed
 * name for both; an entry whose name is still taken (a crafted hash match) is left out in `clashes`.
 */
export function uniqueModelNames<T extends { connector: string; tool: string }>(
  entries: T[],
): { named: Array<{ entry: T; name: string }>; clashes: T[] } {
  const plain = entries.map((e) => modelName(e.connector, e.tool));
  const uses = new Map<string, number>();
  for (const n of plain) uses.set(n, (uses.get(n) ?? 0) + 1);
  const taken = new Set<string>();
  const named: Array<{ entry: T; name: string }> = [];
  const clashes: T[] = [];
  entries.forEach((entry, i) => {
    const name = uses.get(plain[i]!)! > 1 ? hashedModelName(entry.connector, entry.tool) : plain[i]!;
    if (taken.has(name)) clashes.push(entry);
    else {
      taken.add(name);
      named.push({ entry, name });
    }
  });
  return { named, clashes };
}

// Hard links into Errand's state folder: a folder holding another name for a state file (secrets,
// tokens, connector pins) would expose that file to the agent, whatever the path checks say about
// the state folder. Found by inode, on the state folder's own device only (hard links cannot cross).
import fs from 'node:fs';
import path from 'node:path';

export interface StateLinkReport {
  /** Files in the folder that are another name for a state file: [link, state file]. */
  links: Array<[string, string]>;
  /** False when the folder was too large to check whole. */
  complete: boolean;
}

const MAX_ENTRIES = 500_000;

/** Walk `dir` without following links or leaving its device; calls `file` for each regular file. */
function walk(
  dir: string,
  dev: number,
  skip: string | undefined,
  budget: { left: number },
  file: (p: string, st: fs.Stats) => void,
): void {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (--budget.left < 0) return;
    const p = path.join(dir, name);
    if (p === skip) continue;
    let st: fs.Stats;
    try {
      st = fs.lstatSync(p);
    } catch {
      continue;
    }
    if (st.dev !== dev) continue;
    if (st.isDirectory()) walk(p, dev, skip, budget, file);
    else if (st.isFile()) file(p, st);
  }
}

/** Which files under `folder` are hard links to files in the state folder `home` (its workspace excluded). */
export function hardLinksToState(folder: string, home: string, workspace: string): StateLinkReport {
  let homeSt: fs.Stats;
  let folderSt: fs.Stats;
  try {
    homeSt = fs.statSync(home);
    folderSt = fs.statSync(folder);
  } catch {
    return { links: [], complete: true };
  }
  // Another device cannot hold a hard link to a state file.
  if (homeSt.dev !== folderSt.dev) return { links: [], complete: true };
  const state = new Map<string, string>();
  const stateBudget = { left: MAX_ENTRIES };
  walk(home, homeSt.dev, workspace, stateBudget, (p, st) => {
    state.set(`${st.dev}:${st.ino}`, p);
  });
  const links: Array<[string, string]> = [];
  const budget = { left: MAX_ENTRIES };
  walk(folder, folderSt.dev, undefined, budget, (p, st) => {
    if (st.nlink < 2) return;
    const target = state.get(`${st.dev}:${st.ino}`);
    if (target && target !== p) links.push([p, target]);
  });
  return { links, complete: budget.left >= 0 && stateBudget.left >= 0 };
}

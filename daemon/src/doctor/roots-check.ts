// Where the agent may work: the workspace folder and each extra root in config.json, as this user
// can reach them.
import fs from 'node:fs';
import type { Config } from '../config/schema.js';
import type { Check } from './check.js';

export function checkRoots(config: Config, workspace: string): Check[] {
  const checks: Check[] = [];
  const ws = fs.existsSync(workspace);
  checks.push(
    ws
      ? { id: 'root:workspace', title: 'Workspace folder', status: 'ok', detail: workspace }
      : {
          id: 'root:workspace',
          title: 'Workspace folder',
          status: 'warn',
          detail: `${workspace} does not exist yet`,
          fix: 'It is created when the daemon starts: run `errand start`.',
        },
  );
  for (const root of config.roots) {
    const title = `Root ${root}`;
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(root);
    } catch {
      st = undefined;
    }
    if (!st) {
      checks.push({
        id: `root:${root}`,
        title,
        status: 'fail',
        detail: 'does not exist',
        fix: `Create the folder ${root}, or remove it from "roots" in config.json.`,
      });
    } else if (!st.isDirectory()) {
      checks.push({
        id: `root:${root}`,
        title,
        status: 'fail',
        detail: 'is not a folder',
        fix: `Replace ${root} in "roots" in config.json with a folder.`,
      });
    } else {
      try {
        fs.accessSync(root, fs.constants.R_OK | fs.constants.X_OK);
        checks.push({ id: `root:${root}`, title, status: 'ok', detail: 'exists' });
      } catch {
        checks.push({
          id: `root:${root}`,
          title,
          status: 'fail',
          detail: 'cannot be read by this user',
          fix: `Give your user read access to ${root} (chmod/chown), or remove it from "roots".`,
        });
      }
    }
  }
  if (config.roots.length === 0) {
    checks.push({
      id: 'roots',
      title: 'Roots',
      status: 'ok',
      detail: 'no extra folders allowed; the agent works in the workspace folder only',
    });
  }
  return checks;
}

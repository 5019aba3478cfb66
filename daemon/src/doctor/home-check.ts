// `errand doctor`'s look at the home folder itself: what `errand start` would refuse (read-only, not
// yours, a file where the folder belongs) is found here first, in start's own words.
import fs from 'node:fs';
import path from 'node:path';
import { homeAccessProblem } from '../config/home-access.js';

export interface HomeFinding {
  status: 'ok' | 'warn' | 'fail' | 'unknown';
  detail: string;
  fix?: string;
}

/** A file-system error as start would report it (or as "could not check" when start has no words for it). */
function refused(err: unknown, home: string): HomeFinding {
  const found = homeAccessProblem(err, home);
  if (!found) return { status: 'unknown', detail: `could not check ${home} (${(err as Error).message})` };
  return { status: 'fail', detail: `${found.problem}: Errand will not start`, fix: found.fix };
}

const errno = (code: string, where: string) => Object.assign(new Error(code), { code, path: where });

/** Reads only: what start would do to the home (create it, make it 0700, write in it) is tried, never done. */
export function inspectHome(home: string, uid = process.getuid?.()): HomeFinding {
  let st: fs.Stats;
  try {
    st = fs.statSync(home);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return refused(err, home);
    // Start creates it: that needs a writable folder above it.
    let above = path.dirname(home);
    while (!fs.existsSync(above) && path.dirname(above) !== above) above = path.dirname(above);
    try {
      if (!fs.statSync(above).isDirectory()) return refused(errno('ENOTDIR', above), home);
      fs.accessSync(above, fs.constants.W_OK | fs.constants.X_OK);
    } catch (e) {
      return refused(e, home);
    }
    return { status: 'ok', detail: `${home} does not exist yet; \`errand start\` creates it` };
  }
  if (!st.isDirectory()) return refused(errno('ENOTDIR', home), home);
  // Start makes the folder owner-only (chmod 0700), which only its owner (or root) may do.
  if (uid !== undefined && uid !== 0 && st.uid !== uid) return refused(errno('EPERM', home), home);
  try {
    fs.accessSync(home, fs.constants.W_OK | fs.constants.X_OK);
  } catch (err) {
    return refused(err, home);
  }
  if (process.platform !== 'win32' && st.mode & 0o077)
    return {
      status: 'warn',
      detail: `${home} can be opened by other users (mode ${(st.mode & 0o777).toString(8)})`,
      fix: `Run \`chmod 700 ${home}\` (the next start does it too).`,
    };
  return { status: 'ok', detail: `${home} (writable, yours only)` };
}

// What `errand start` says when the home folder itself is in the way (config/home-access.ts has the
// cases and their fixes; `errand doctor` uses the same words).
import { homeAccessProblem } from '../config/home-access.js';
import { forTerminal } from './terminal-text.js';

export { EXIT_HOME_UNUSABLE } from '../config/home-access.js';

/** The sentence for a file-system error met while opening the home, or undefined for other errors. */
export function homeAccessMessage(err: unknown, home: string): string | undefined {
  const found = homeAccessProblem(err, home);
  // The path comes from the environment (ERRAND_HOME): shown with its control characters made visible.
  return found && forTerminal(`${found.problem}. ${found.fix}`);
}

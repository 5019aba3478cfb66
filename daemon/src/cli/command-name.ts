// The command a user types to run Errand, for every hint that names one ("run `errand pair`").
// From the project, `npm install && npm start` puts no `errand` on PATH: the README's command is
// `npx errand` then. With `npm link` or a global install, `errand` works everywhere.
import { which } from '../service/runner.js';

/** `npx errand` when npm ran Errand (npm start, npx errand) and no `errand` is on PATH; else `errand`. */
export function errandCommand(env: NodeJS.ProcessEnv): string {
  return env.npm_lifecycle_event && !which('errand', env) ? 'npx errand' : 'errand';
}

/** A command quoted in a hint: `errand …`, maybe after settings (`ERRAND_PORT=7346 errand install`). */
const QUOTED_COMMAND = /`((?:[A-Z][A-Z0-9_]*=\S* )*)errand(?= )/g;

/** Rewrites the `errand …` commands quoted in the CLI's output to the one this user has. */
export function namingUsersCommand(env: NodeJS.ProcessEnv): (text: string) => string {
  const command = errandCommand(env);
  return command === 'errand' ? (text) => text : (text) => text.replace(QUOTED_COMMAND, `\`$1${command}`);
}

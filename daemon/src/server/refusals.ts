// Refused requests (foreign Host or Origin, failed authentication, bad pairing codes) go to the log
// so the owner can see someone knocking, at most a few lines a minute (a flood cannot fill the
// disk or drown the log), and never with a secret: no token, no code, no query string.
import type { Logger } from '../util/log.js';
import { stripControl } from '../util/text.js';

const PER_MINUTE = 20;
const WINDOW_MS = 60_000;

export type RefusalReason = 'bad_host' | 'bad_origin' | 'auth_failed' | 'pair_code_invalid' | 'rate_limited';

export class RefusalLog {
  private windowStart = 0;
  private logged = 0;
  private suppressed = 0;

  constructor(
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  refused(reason: RefusalReason, fields: { address?: string; host?: string; origin?: string; path?: string }): void {
    const t = this.now();
    if (t - this.windowStart >= WINDOW_MS) {
      if (this.suppressed > 0)
        this.log.warn('more refusals were not logged', { count: this.suppressed, windowSeconds: WINDOW_MS / 1000 });
      this.windowStart = t;
      this.logged = 0;
      this.suppressed = 0;
    }
    if (this.logged >= PER_MINUTE) {
      this.suppressed++;
      return;
    }
    this.logged++;
    const clip = (s: string | undefined) => (s === undefined ? undefined : stripControl(s).slice(0, 120));
    this.log.warn('refused', {
      reason,
      ...(fields.address ? { address: clip(fields.address) } : {}),
      ...(fields.host !== undefined ? { host: clip(fields.host) } : {}),
      ...(fields.origin !== undefined ? { origin: clip(fields.origin) } : {}),
      // The path only: a query string could carry a token someone put in a URL.
      ...(fields.path ? { path: clip(fields.path.split('?')[0]) } : {}),
    });
  }
}

// What one doctor check finds: its own tiny module, so each check file can name the type without
// importing the runner (checks.ts) that imports them all.
export type CheckStatus = 'ok' | 'warn' | 'fail' | 'unknown';

export interface Check {
  id: string;
  title: string;
  status: CheckStatus;
  /** What was found. */
  detail: string;
  /** The fix, in one sentence (absent when status is ok). */
  fix?: string;
}

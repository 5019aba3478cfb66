// Why a task failed, in one plain sentence for its card and the thread list; the host's full reason
// (status codes, the API's own words, config keys) stays behind "Details".

const MAX = 160;

export interface FailureWords {
  sentence: string;
  /** The whole reason, when the sentence leaves something out. */
  details?: string;
}

export function failureWords(reason: string | undefined): FailureWords {
  const full = (reason ?? '').trim();
  const line = (full.split('\n').find((l) => l.trim()) ?? '').trim();
  if (!line) return { sentence: 'The task stopped with an error.' };
  // "The model API refused the request (400): what the API said" → before the status and its text.
  let s = line.replace(/\s*\([^()]*\):\s.*$/, '');
  // The first sentence only.
  const end = s.search(/[.!?](\s|$)/);
  if (end >= 0) s = s.slice(0, end);
  // Asides in brackets ("(limit: agent.maxTurns = 40)", "(ECONNREFUSED)") are details.
  s = s.replace(/\s*\([^()]*\)/g, '').trim();
  if (!s) s = line;
  if (s.length > MAX) s = `${s.slice(0, MAX - 1).trimEnd()}…`;
  else s = `${s}.`;
  return s.slice(0, -1) === full.replace(/[.!?]$/, '') ? { sentence: s } : { sentence: s, details: full };
}

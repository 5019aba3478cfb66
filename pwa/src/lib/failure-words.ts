// Why a task failed, in one plain sentence for its card and the thread list, and what to do about it
// when the host said; the host's full reason (status codes, the API's own words) stays behind "Details".

const MAX = 160;

export interface FailureWords {
  sentence: string;
  /** What the person can do about it, when the host said ("Check … in config.json, then retry."). */
  nextStep?: string;
  /** The whole reason, when the sentence leaves something out. */
  details?: string;
}

/** A sentence that tells the person what to do. */
const NEXT_STEP = /^(?:Check|Set|Run|Open|Retry|Try|Wait|Start|Resume|Free|Give|Turn|Pair|Install|Use)\b/;

/** The last sentence of `line` (the host's own, after the API's words): split where a capital follows ". ". */
function lastSentence(line: string): string {
  const parts = line.split(/(?<=[.!?])\s+(?=[A-Z])/);
  return parts[parts.length - 1].trim();
}

/**
 * The host names the service it calls "the model API" or "the Anthropic API": people know it as
 * Claude's. (Its own words stay in the details.)
 */
const SERVICE = /\b(?:the|The) (?:model|Anthropic) API\b/g;

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
  s = s.replace(SERVICE, "Claude's service");
  if (s.length > MAX) s = `${s.slice(0, MAX - 1).trimEnd()}…`;
  else s = `${s}.`;
  const last = lastSentence(line);
  const step = last !== line && NEXT_STEP.test(last) && /[.!?]$/.test(last) ? last : undefined;
  const nextStep = step && step !== s && step.length <= MAX ? { nextStep: step } : {};
  return s.slice(0, -1) === full.replace(/[.!?]$/, '')
    ? { sentence: s, ...nextStep }
    : { sentence: s, ...nextStep, details: full };
}

// Runaway detection for one run of the agent loop: the same tool call with the same arguments made
// again and again, or many turns in a row that bring nothing new (no text, only tool results seen
// before). Pure bookkeeping; the loop pauses the task and asks the user when it reports evidence.
import crypto from 'node:crypto';

/** The same call (tool and arguments) this many times in one run asks the user. */
export const SAME_CALL_LIMIT = 3;
/** This many turns in a row with no new output asks the user. */
export const STALE_TURN_LIMIT = 6;

export interface RunawayEvidence {
  kind: 'same_call' | 'no_progress';
  /** One sentence for the approval: what was seen (may quote the repeated call). */
  summary: string;
  /**
   * Why the task stopped, when the user says no: what was seen, with no arguments (they can hold
   * file text or a command, and this sentence becomes the task's reason; the approval has them).
   */
  stopped: string;
  /** What the user is shown: the repeated call, or the last calls of the stale turns. */
  details: Record<string, unknown>;
}

/** Arguments as canonical JSON (sorted keys), so {a,b} and {b,a} are the same call. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}

const digest = (s: string) => crypto.createHash('sha256').update(s).digest('base64url').slice(0, 22);

function shortArgs(input: unknown): string {
  const s = canonical(input);
  return s.length > 200 ? `${s.slice(0, 197)}…` : s;
}

/** A tool name as the model gave it, capped (it is checked to be a string, not to be one of ours). */
function shortName(name: string): string {
  const s = name.replace(/[^\w.-]+/g, ' ').trim();
  return s.length > 60 ? `${s.slice(0, 59)}…` : s || 'tool';
}

export class RunawayWatch {
  private calls = new Map<string, number>();
  private seenResults = new Set<string>();
  private staleTurns = 0;
  private recentCalls: string[] = [];

  /** The calls of a new reply, before they run: evidence when one repeats SAME_CALL_LIMIT times. */
  beforeCalls(calls: Array<{ name: string; input: unknown }>): RunawayEvidence | undefined {
    for (const c of calls) {
      const key = `${c.name}\u0000${canonical(c.input)}`;
      const n = (this.calls.get(key) ?? 0) + 1;
      this.calls.set(key, n);
      if (n >= SAME_CALL_LIMIT) {
        return {
          kind: 'same_call',
          summary: `The agent made the same call ${n} times: ${c.name} ${shortArgs(c.input)}. Let it continue?`,
          stopped: `Stopped: The agent made the same ${shortName(c.name)} call ${n} times.`,
          details: { tool: c.name, arguments: c.input, times: n },
        };
      }
    }
    return undefined;
  }

  /** A finished turn: evidence after STALE_TURN_LIMIT turns in a row with nothing new. */
  afterTurn(
    text: string,
    calls: Array<{ name: string; input: unknown }>,
    results: string[],
  ): RunawayEvidence | undefined {
    let fresh = text.trim().length > 0;
    for (const r of results) {
      const d = digest(r);
      if (!this.seenResults.has(d)) fresh = true;
      this.seenResults.add(d);
    }
    for (const c of calls) this.recentCalls.push(`${c.name} ${shortArgs(c.input)}`);
    this.recentCalls = this.recentCalls.slice(-5);
    this.staleTurns = fresh ? 0 : this.staleTurns + 1;
    if (this.staleTurns < STALE_TURN_LIMIT) return undefined;
    return {
      kind: 'no_progress',
      summary: `${this.staleTurns} turns in a row brought nothing new (the same results again). Let it continue?`,
      stopped: `Stopped: ${this.staleTurns} turns in a row brought nothing new.`,
      details: { turns: this.staleTurns, lastCalls: [...this.recentCalls] },
    };
  }

  /** The user let it continue: count afresh. */
  reset(kind: RunawayEvidence['kind'], details: Record<string, unknown>): void {
    if (kind === 'no_progress') this.staleTurns = 0;
    else this.calls.set(`${String(details.tool)}\u0000${canonical(details.arguments)}`, 0);
  }
}

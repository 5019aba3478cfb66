// The policy outside the model: for each prepared call, allow, ask or deny. Rules from the config
// ({tool, match?, decision}) come first; then the defaults: reads and file changes inside roots are
// allowed (changes are journaled), shell asks, connector tools ask unless read-only. Once a task
// has read untrusted content, tools that can send data out (the shell, every connector) and changes
// that outlive the thread ask even when a rule allows them; and with no sandbox, every shell call asks.
import path from 'node:path';
import type { PolicyRule } from '../config/schema.js';
import { globMatcher } from './glob.js';
import type { PreparedCall, ToolSpec } from './types.js';

export type Decision = 'allow' | 'ask' | 'deny';

export interface PolicyVerdict {
  decision: Decision;
  reason: string;
}

const SHELLS = new Set(['sh', 'bash', 'zsh', 'dash', 'ksh', 'fish']);

/**
 * Does a shell rule's match (a command prefix, word-wise) cover this command line? A rule naming a
 * program by name allows only that name as the shell finds it: `./git` or `/tmp/x/git` is another
 * program, which only a deny rule (the wider the better) also covers by its base name.
 */
function shellMatches(match: string, argv: string[], decision: Decision): boolean {
  const want = match.trim().split(/\s+/);
  const prog = [path.basename(argv[0]), ...argv.slice(1)];
  const prefix = (words: string[]) => want.every((w, i) => words[i] === w);
  if (prefix(argv)) return true;
  if (decision !== 'deny') return false;
  if (prefix(prog)) return true;
  // Deny rules also look inside `bash -c "…"` scripts and after env/sudo/xargs-style wrappers.
  const scripts = SHELLS.has(prog[0])
    ? argv
        .slice(1)
        .filter((a, i, all) => all[i - 1] === '-c' || (all[i - 1]?.startsWith('-') && all[i - 1].includes('c')))
    : [];
  const re = new RegExp(
    `(^|[\\s;&|(\`$])${want.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('\\s+')}($|[\\s;&|)\`])`,
  );
  if (scripts.some((s) => re.test(s))) return true;
  return prog
    .slice(1)
    .some(
      (_, i) =>
        prefix([path.basename(prog[i + 1]), ...prog.slice(i + 2)]) &&
        ['env', 'sudo', 'xargs', 'nice', 'nohup', 'timeout', 'command', 'exec'].includes(prog[i]),
    );
}

function ruleMatches(rule: PolicyRule, spec: ToolSpec, prepared: PreparedCall): boolean {
  if (!globMatcher(rule.tool)(spec.definition.name)) return false;
  if (rule.match === undefined || rule.match === '' || rule.match === '*') return true;
  if (spec.kind === 'shell') {
    const { argv, program, programSha256 } = prepared.action as {
      argv: string[];
      program?: string;
      programSha256?: string;
    };
    // A program found in the allowed folders is one the agent may have written: a rule allows it
    // only by its path, never by the name it shares with a system program.
    const matched = programSha256 && program && rule.decision !== 'deny' ? [program, ...argv.slice(1)] : argv;
    return shellMatches(rule.match, matched, rule.decision);
  }
  if (spec.kind === 'read' || spec.kind === 'write') {
    const whole = globMatcher(rule.match);
    const name = globMatcher(rule.match.includes('/') ? rule.match : `**/${rule.match}`);
    return prepared.subjects.some((p) => whole(p) || name(p));
  }
  // Connector tools: match against the canonical JSON of the arguments, as a glob.
  return globMatcher(`*${rule.match}*`)(JSON.stringify(prepared.action.arguments ?? {}));
}

/** Why a change that outlives the thread asks once untrusted text is in it. */
const LASTS: Record<NonNullable<PreparedCall['persists']>, string> = {
  memory: 'memory outlives the thread',
  instructions: 'every later task follows CLAUDE.md and AGENTS.md',
  'runs-later': 'other programs run or load this file later, outside the sandbox (git, a shell, a login service …)',
};

export function decide(opts: {
  rules: PolicyRule[];
  spec: ToolSpec;
  prepared: PreparedCall;
  tainted: boolean;
  sandboxOn: boolean;
  connectorReadOnly: boolean;
}): PolicyVerdict {
  const { spec, prepared } = opts;
  const matching = opts.rules.filter((r) => ruleMatches(r, spec, prepared));
  const deny = matching.find((r) => r.decision === 'deny');
  if (deny)
    return {
      decision: 'deny',
      reason: `denied by the rule {tool: "${deny.tool}"${deny.match ? `, match: "${deny.match}"` : ''}}`,
    };

  let verdict: PolicyVerdict;
  if (matching.length) {
    // The most specific rule (longest match) wins; on a tie, ask beats allow.
    const best = [...matching].sort(
      (a, b) => (b.match?.length ?? 0) - (a.match?.length ?? 0) || (a.decision === 'ask' ? -1 : 1),
    )[0];
    verdict = {
      decision: best.decision,
      reason: `rule {tool: "${best.tool}"${best.match ? `, match: "${best.match}"` : ''}}`,
    };
  } else if (spec.kind === 'read' || spec.kind === 'write') {
    verdict = {
      decision: 'allow',
      reason:
        spec.kind === 'read'
          ? 'reading inside allowed folders'
          : 'changing files inside allowed folders (journaled, undoable)',
    };
  } else if (spec.kind === 'shell') {
    verdict = { decision: 'ask', reason: 'shell commands need approval' };
  } else if (opts.connectorReadOnly) {
    // Only the user's own "read-only" mark lowers the policy: a server's readOnlyHint is its claim
    // about itself, and a hostile or compromised server would make it.
    verdict = { decision: 'allow', reason: 'the connector is configured read-only' };
  } else {
    verdict = { decision: 'ask', reason: 'connector tools that may change things need approval' };
  }

  if (verdict.decision === 'allow' && spec.kind === 'shell' && !opts.sandboxOn) {
    return { decision: 'ask', reason: 'the shell sandbox is off, so every command needs approval' };
  }
  // A read-only connector still carries its arguments to its server: once untrusted text is in the
  // context, that is a way out too.
  const egress = spec.kind === 'shell' || spec.kind === 'connector';
  if (verdict.decision === 'allow' && opts.tainted && prepared.persists) {
    return { decision: 'ask', reason: `this thread has read untrusted content, and ${LASTS[prepared.persists]}` };
  }
  if (verdict.decision === 'allow' && opts.tainted && egress) {
    return { decision: 'ask', reason: 'this task has read untrusted content, and this tool can send data out' };
  }
  return verdict;
}

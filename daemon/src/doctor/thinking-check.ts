// Extended thinking as tasks will get it: a maxTokens too small to hold a thinking budget and an
// answer turns thinking off for every request, which would otherwise go unsaid.
import { MIN_THINKING_BUDGET, thinkingBudget } from '../agent/features.js';
import type { Config } from '../config/schema.js';

const fmt = (n: number) => n.toLocaleString('en-US');

/** A doctor check (checks.ts Check), as a warning or fine. */
interface ThinkingCheck {
  id: 'thinking';
  title: string;
  status: 'ok' | 'warn';
  detail: string;
  fix?: string;
}

export function checkThinking(config: Config): ThinkingCheck {
  const { thinking, maxTokens } = config.anthropic;
  const title = 'Extended thinking';
  if (!thinking.enabled)
    return { id: 'thinking', title, status: 'ok', detail: 'off (anthropic.thinking.enabled is false)' };
  const budget = thinkingBudget(thinking.budgetTokens, maxTokens);
  if (!budget)
    return {
      id: 'thinking',
      title,
      status: 'warn',
      detail: `off: anthropic.maxTokens = ${fmt(maxTokens)} leaves no room for it (at least ${fmt(2 * MIN_THINKING_BUDGET)}: ${fmt(MIN_THINKING_BUDGET)} to think, ${fmt(MIN_THINKING_BUDGET)} for the answer)`,
      fix: `Raise anthropic.maxTokens in config.json to ${fmt(2 * MIN_THINKING_BUDGET)} or more, or set anthropic.thinking.enabled to false.`,
    };
  const cut =
    budget < thinking.budgetTokens
      ? ` (anthropic.thinking.budgetTokens = ${fmt(thinking.budgetTokens)}, cut to anthropic.maxTokens − ${fmt(MIN_THINKING_BUDGET)})`
      : '';
  return {
    id: 'thinking',
    title,
    status: 'ok',
    detail: `up to ${fmt(budget)} tokens a reply${cut}, on models that have it`,
  };
}

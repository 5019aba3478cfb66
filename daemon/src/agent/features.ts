// The optional API features of a request: extended thinking (interleaved between tool calls where
// the model has it) and the API's context management. Betas travel as the anthropic-beta header.
import type { LoopSettings } from './loop-types.js';
import type { ModelRequest } from './wire.js';

export const INTERLEAVED_THINKING_BETA = 'interleaved-thinking-2025-05-14';
export const CONTEXT_MANAGEMENT_BETA = 'context-management-2025-06-27';
/** The API refuses a thinking budget under this. */
export const MIN_THINKING_BUDGET = 1024;

/** Claude 4 and later think between tool calls (interleaved); older models only at the start of a reply. */
export const interleaves = (model: string): boolean => /^claude-(opus|sonnet|haiku)-[4-9]/.test(model);
/** Models with extended thinking: Claude 3.7 Sonnet and Claude 4 on (others refuse the parameter). */
export const thinks = (model: string): boolean => interleaves(model) || /^claude-3-7-sonnet/.test(model);

/**
 * The thinking budget a request gets: the budget is part of max_tokens and must stay under it,
 * leaving room for the answer; 0 (no thinking) when what is left is under the API's least.
 */
export function thinkingBudget(budgetTokens: number, maxTokens: number): number {
  const budget = Math.min(budgetTokens, maxTokens - MIN_THINKING_BUDGET);
  return budget >= MIN_THINKING_BUDGET ? budget : 0;
}

export function modelFeatures(
  settings: Pick<LoopSettings, 'model' | 'maxTokens' | 'contextTokens' | 'thinkingBudget' | 'contextManagement'>,
): Pick<ModelRequest, 'thinking' | 'context_management' | 'betas'> {
  const out: Pick<ModelRequest, 'thinking' | 'context_management' | 'betas'> = {};
  const betas: string[] = [];
  const budget = thinkingBudget(settings.thinkingBudget ?? 0, settings.maxTokens);
  if (budget && thinks(settings.model)) {
    out.thinking = { type: 'enabled', budget_tokens: budget };
    if (interleaves(settings.model)) betas.push(INTERLEAVED_THINKING_BETA);
  }
  if (settings.contextManagement) {
    // Clear old tool uses well before the daemon's own rule (context-window.ts) would have to shorten them.
    const trigger = Math.max(4_000, Math.floor((settings.contextTokens - settings.maxTokens) * 0.7));
    out.context_management = {
      edits: [
        {
          type: 'clear_tool_uses_20250919',
          trigger: { type: 'input_tokens', value: trigger },
          keep: { type: 'tool_uses', value: 5 },
        },
      ],
    };
    betas.push(CONTEXT_MANAGEMENT_BETA);
  }
  if (betas.length) out.betas = betas;
  return out;
}

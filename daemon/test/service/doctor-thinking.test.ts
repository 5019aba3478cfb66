// Extended thinking switched on but with a maxTokens too small to hold a budget and an answer went
// out as requests without thinking, and nothing said so. `errand doctor` says it now, with the fix;
// the requests' budget and the doctor's come from one rule (agent/features.ts thinkingBudget).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { modelFeatures } from '../../src/agent/features.js';
import { loadConfig } from '../../src/config/load.js';
import { type Check, runDoctor } from '../../src/doctor/index.js';
import { recordingRunner } from '../../src/service/runner.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const offline: typeof fetch = async () => {
  throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ENOTFOUND' } });
};

async function thinkingCheck(anthropic: Record<string, unknown>): Promise<{ check: Check; requestThinks: boolean }> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-doctor-thinking-'));
  dirs.push(home);
  fs.writeFileSync(path.join(home, 'config.json'), JSON.stringify({ anthropic }), { mode: 0o600 });
  const env = { PATH: '/usr/bin:/bin', HOME: path.join(home, 'user') };
  const checks = await runDoctor({
    home,
    env,
    platform: 'linux',
    run: recordingRunner().run,
    fetch: offline,
    timeoutMs: 500,
  });
  const check = checks.find((c) => c.id === 'thinking');
  if (!check) throw new Error('no thinking check');
  const config = loadConfig({ home, env });
  const features = modelFeatures({
    model: 'claude-sonnet-4-6',
    maxTokens: config.anthropic.maxTokens,
    contextTokens: config.anthropic.contextTokens,
    ...(config.anthropic.thinking.enabled ? { thinkingBudget: config.anthropic.thinking.budgetTokens } : {}),
    contextManagement: false,
  });
  return { check, requestThinks: features.thinking !== undefined };
}

it('a maxTokens with no room for thinking is a warning that names the setting and the fix', async () => {
  const { check, requestThinks } = await thinkingCheck({ maxTokens: 1500 });
  expect(requestThinks).toBe(false);
  expect(check.status).toBe('warn');
  expect(check.detail).toBe(
    'off: anthropic.maxTokens = 1,500 leaves no room for it (at least 2,048: 1,024 to think, 1,024 for the answer)',
  );
  expect(check.fix).toBe(
    'Raise anthropic.maxTokens in config.json to 2,048 or more, or set anthropic.thinking.enabled to false.',
  );
});

it('a budget cut to fit says so; the default and a switched-off thinking are fine', async () => {
  const cut = await thinkingCheck({ maxTokens: 3000, thinking: { budgetTokens: 4096 } });
  expect(cut.requestThinks).toBe(true);
  expect(cut.check).toMatchObject({ status: 'ok' });
  expect(cut.check.detail).toBe(
    'up to 1,976 tokens a reply (anthropic.thinking.budgetTokens = 4,096, cut to anthropic.maxTokens − 1,024), on models that have it',
  );
  const standard = await thinkingCheck({});
  expect(standard.check).toMatchObject({ status: 'ok', detail: 'up to 4,096 tokens a reply, on models that have it' });
  const off = await thinkingCheck({ maxTokens: 1500, thinking: { enabled: false } });
  expect(off.requestThinks).toBe(false);
  expect(off.check).toMatchObject({ status: 'ok', detail: 'off (anthropic.thinking.enabled is false)' });
});

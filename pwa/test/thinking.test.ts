// The model's thinking on the phone: folded as "Thought for …", the summary inside when opened; a
// redacted block says the thinking was kept private. The answer follows as usual.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { text } from '../../daemon/test/helpers/model-server.js';
import { cspViolations, type PhoneRig, startPhoneRig, unnamedControls } from './helpers/browser.js';

let rig: PhoneRig | undefined;
beforeAll(async () => {
  rig = await startPhoneRig('Thinking phone');
}, 120_000);
afterAll(async () => {
  await rig?.close();
});

it('shows a folded thought with its summary, then the answer', async () => {
  const { page } = rig!.b;
  rig!.model.push({
    content: [
      { type: 'thinking', thinking: 'The user wants the capital. It is Paris.', signature: 'sig-abc' },
      { type: 'redacted_thinking', data: 'ZW5jcnlwdGVk' },
      text('Paris.'),
    ],
  });
  await page.getByRole('button', { name: 'New task' }).click();
  await page.getByRole('textbox', { name: 'Message' }).fill('Capital of France?');
  await page.getByRole('button', { name: 'Send' }).click();
  await page.locator('.task-group .chip-done').waitFor({ timeout: 20_000 });

  const thoughts = page.locator('details.thought');
  await expect.poll(() => thoughts.count()).toBe(2);
  const first = thoughts.first();
  expect(await first.locator('summary').innerText()).toMatch(/^Thought (briefly|for \d+ s)$/);
  // Folded until opened.
  expect(await first.evaluate((d) => (d as HTMLDetailsElement).open)).toBe(false);
  await first.locator('summary').click();
  await first.getByText('The user wants the capital. It is Paris.').waitFor();
  await thoughts.nth(1).locator('summary').click();
  await thoughts.nth(1).getByText('kept private').waitFor();
  await page.locator('.msg-assistant', { hasText: 'Paris.' }).waitFor();
  expect(await cspViolations(page)).toEqual([]);
  expect(await unnamedControls(page)).toEqual([]);
});

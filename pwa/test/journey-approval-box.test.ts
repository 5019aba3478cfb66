// The obvious box while an action waits for approval: what the person types there denies the action
// and tells the agent what to do instead. Before, "stop, only list them" became a second task queued
// behind the waiting one, and reached the agent only after the action it meant to stop had run.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { reply, text, toolUse } from '../../daemon/test/helpers/model-server.js';
import { type PhoneRig, shot, startPhoneRig } from './helpers/browser.js';

let rig: PhoneRig | undefined;
beforeAll(async () => {
  rig = await startPhoneRig('Approval box phone');
}, 120_000);
afterAll(async () => {
  await rig?.close();
});

it('typed while an approval waits, a message denies it with those words, and nothing is queued behind it', async () => {
  const { page } = rig!.b;
  const { model, td } = rig!;
  const made = path.join(td.home, 'workspace', 'made-by-the-command.txt');
  model.push(
    reply(toolUse('shell', { argv: ['touch', made] })),
    reply(text('Understood: I listed the files instead.')),
  );
  await page.setViewportSize({ width: 360, height: 740 });
  await page.goto(`${td.url}/#new`);
  await page.getByRole('textbox', { name: 'Message' }).fill('Tidy my workspace');
  await page.getByRole('button', { name: 'Send' }).click();
  await page.getByRole('region', { name: /^Approval needed/ }).waitFor({ timeout: 15_000 });

  // The box says what sending does now.
  const box = page.getByRole('textbox', { name: 'Message', exact: true });
  await box.waitFor();
  expect(await box.getAttribute('placeholder')).toBe('Reply to deny it…');
  expect(
    await box.evaluate((e) => document.getElementById(e.getAttribute('aria-describedby') ?? '')?.textContent),
  ).toBe('Sending this denies the action above.');
  // The card's own buttons stay the only ones named Deny and Approve.
  expect(await page.getByRole('button', { name: 'Deny' }).count()).toBe(1);
  expect(await page.getByRole('button', { name: 'Approve' }).count()).toBe(1);
  expect(await page.locator('.composer-hint').innerText()).toBe('Sending this denies the action above.');
  await shot(page, 'journey-approval-box');
  await box.fill('Stop, only list the files');
  await page.getByRole('button', { name: 'Send', exact: true }).click();

  await page.getByText('Understood: I listed the files instead.').waitFor({ timeout: 15_000 });
  // The waiting task got the words with the denial, and the command never ran.
  const result = JSON.stringify(model.requests[1].body.messages.at(-1).content);
  expect(result).toContain('The user denied this action');
  expect(result).toContain('Stop, only list the files');
  expect(fs.existsSync(made)).toBe(false);
  // One task: the words did not queue another one; the step says what was said.
  expect(await page.locator('.task-group').count()).toBe(1);
  await page.locator('.task-group .chip-done').waitFor({ timeout: 10_000 });
  expect(model.requests).toHaveLength(2);
  // With nothing waiting, the box sends messages again.
  await page.getByRole('textbox', { name: 'Message', exact: true }).waitFor();
});

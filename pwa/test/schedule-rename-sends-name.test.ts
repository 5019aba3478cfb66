// Renaming a schedule on the phone sends the new name and nothing else: the rhythm the form shows
// is not sent again (the computer once took any rhythm as a new time, moving the next run), and an
// untouched limit is not sent as a change either.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Schedule } from '../../shared/src/index.js';
import { type PhoneRig, startPhoneRig } from './helpers/browser.js';

let rig: PhoneRig | undefined;
beforeAll(async () => {
  rig = await startPhoneRig('Schedule rename phone');
}, 120_000);
afterAll(async () => {
  await rig?.close();
});

it('a rename from the edit form sends only the new name; the next run stays', async () => {
  const { page } = rig!.b;
  const { td } = rig!;
  const c = await td.connect();
  let made: Schedule;
  try {
    made = (
      await c.send<{ schedule: Schedule }>({
        type: 'schedule.create',
        text: 'Summarise what landed in Inbox',
        title: 'Morning brief',
        when: { kind: 'every', hours: 24 },
        timeZone: 'UTC',
        maxCostUsd: 0.5,
      })
    ).schedule;
  } finally {
    c.close();
  }

  // The schedule commands the app sends from here on (a fresh socket after the reload).
  const updates: Array<Record<string, unknown>> = [];
  page.on('websocket', (ws) =>
    ws.on('framesent', (f) => {
      if (typeof f.payload !== 'string' || !f.payload.includes('"schedule.update"')) return;
      updates.push(JSON.parse(f.payload) as Record<string, unknown>);
    }),
  );
  await page.reload();
  await page.getByRole('button', { name: 'Schedules' }).click();
  await page.getByRole('button', { name: 'Edit Morning brief' }).click();
  const form = page.getByRole('form', { name: 'Edit Morning brief' });
  await form.getByLabel('Name (optional)').fill('Daily inbox');
  await form.getByRole('button', { name: 'Save schedule' }).click();
  await page.locator('li.schedule', { hasText: 'Daily inbox' }).waitFor();

  expect(updates).toHaveLength(1);
  const { id: _id, ...sent } = updates[0];
  expect(sent).toEqual({ type: 'schedule.update', scheduleId: made.id, title: 'Daily inbox' });
  const now = td.daemon.ctx.store.schedules.get(made.id)!;
  expect(now).toMatchObject({ title: 'Daily inbox', nextRunAt: made.nextRunAt, maxCostUsd: 0.5 });
});

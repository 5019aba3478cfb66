// The Schedules screen against the real daemon: add a schedule from the phone, run it now into its
// own thread, pause and resume, answer a missed run's "run now?", delete; live updates by events.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { reply, text } from '../../daemon/test/helpers/model-server.js';
import type { Schedule } from '../../shared/src/index.js';
import { cspViolations, type PhoneRig, readKv, shot, startPhoneRig, unnamedControls } from './helpers/browser.js';

let rig: PhoneRig | undefined;
beforeAll(async () => {
  rig = await startPhoneRig('Schedules phone');
}, 120_000);
afterAll(async () => {
  await rig?.close();
});

const schedules = () => rig!.td.daemon.ctx.store.schedules;

it('adds, runs now, pauses, resumes and deletes a schedule from the phone', async () => {
  const { page } = rig!.b;
  const { model, td } = rig!;
  await page.goto(`${td.url}/#`);
  await page.getByRole('button', { name: 'Schedules' }).click();
  await page.getByRole('heading', { name: 'Schedules' }).waitFor();
  await page.getByText('No schedules yet.', { exact: false }).waitFor();

  await page.getByRole('button', { name: 'New schedule' }).click();
  await page.getByLabel('Task', { exact: true }).fill('Summarise what landed in Inbox');
  await page.getByLabel('Name (optional)').fill('Morning brief');
  await page.getByLabel('When').selectOption('weekdays');
  await page.getByLabel('Time').fill('07:30');
  await page.getByRole('button', { name: 'Save schedule' }).click();
  const card = page.locator('li.schedule', { hasText: 'Morning brief' });
  await card.getByText('weekdays at 07:30', { exact: false }).waitFor();
  await expect.poll(() => schedules().list().length).toBe(1);
  const made = schedules().list()[0];
  expect(made).toMatchObject({ title: 'Morning brief', when: { kind: 'weekdays', time: '07:30' }, state: 'active' });
  expect(made.nextRunAt).toBeGreaterThan(Date.now());
  expect(await unnamedControls(page)).toEqual([]);
  // The schedule's line is plain words: no raw state ("· active") while it runs as planned.
  const line = card.locator('h3 + p');
  expect(await line.innerText()).toMatch(/weekdays at 07:30 · \S+$/);
  expect(await line.innerText()).not.toMatch(/active/i);

  // Edit: a new time and a limit per run.
  await page.getByRole('button', { name: 'Edit Morning brief' }).click();
  const edit = page.getByRole('form', { name: 'Edit Morning brief' });
  await edit.getByLabel('Time').fill('09:15');
  await edit.getByLabel('Spending limit per run ($, empty for the per-task limit)').fill('0.5');
  await edit.getByRole('button', { name: 'Save schedule' }).click();
  await card.getByText('weekdays at 09:15', { exact: false }).waitFor();
  await expect.poll(() => page.getByRole('form', { name: 'Edit Morning brief' }).count()).toBe(0);
  expect(schedules().get(made.id)).toMatchObject({ when: { kind: 'weekdays', time: '09:15' }, maxCostUsd: 0.5 });

  // Edit again and empty the limit: the schedule's own limit goes (its runs have the per-task one).
  await page.getByRole('button', { name: 'Edit Morning brief' }).click();
  await edit.getByLabel('Spending limit per run ($, empty for the per-task limit)').fill('');
  await edit.getByRole('button', { name: 'Save schedule' }).click();
  await expect.poll(() => page.getByRole('form', { name: 'Edit Morning brief' }).count()).toBe(0);
  expect(schedules().get(made.id)).not.toHaveProperty('maxCostUsd');
  expect(schedules().get(made.id)).toMatchObject({ when: { kind: 'weekdays', time: '09:15' } });
  // Opened again, the field is still empty, not back at $0.50.
  await page.getByRole('button', { name: 'Edit Morning brief' }).click();
  expect(await edit.getByLabel('Spending limit per run ($, empty for the per-task limit)').inputValue()).toBe('');
  await page.getByRole('button', { name: 'Edit Morning brief' }).click();
  await expect.poll(() => page.getByRole('form', { name: 'Edit Morning brief' }).count()).toBe(0);

  model.push(reply(text('Inbox: three new files.')));
  await page.getByRole('button', { name: 'Run Morning brief now' }).click();
  // Updated by events: the run ends as "ran", and its thread can be opened.
  await card.getByText(/· ran \(run now\)/).waitFor({ timeout: 15_000 });
  await card.getByRole('button', { name: 'History (1)' }).click();
  await page
    .getByRole('list', { name: 'History of Morning brief' })
    .getByText(/ran \(run now\)/)
    .waitFor();
  await shot(page, 'schedules-list');

  await page.getByRole('button', { name: 'Pause Morning brief' }).click();
  await card.getByText('Paused', { exact: true }).waitFor();
  await expect.poll(() => schedules().get(made.id)?.state).toBe('paused');
  // Paused stays visible on the schedule's line.
  expect(await line.innerText()).toMatch(/ · Paused$/);
  await page.getByRole('button', { name: 'Resume Morning brief' }).click();
  await expect.poll(() => schedules().get(made.id)?.state).toBe('active');
  await page.getByRole('button', { name: 'Pause Morning brief' }).waitFor();
  expect(await line.innerText()).not.toMatch(/Paused|active/i);

  await card.getByRole('button', { name: 'Open thread' }).click();
  await page.getByText('Inbox: three new files.').waitFor({ timeout: 10_000 });
  await page.goBack();
  await page.getByRole('heading', { name: 'Schedules' }).waitFor();

  await page.getByRole('button', { name: 'Delete Morning brief' }).click();
  await page.getByRole('button', { name: 'Confirm delete Morning brief' }).click();
  await expect.poll(() => page.locator('li.schedule').count()).toBe(0);
  expect(schedules().list()).toEqual([]);
  expect(await cspViolations(page)).toEqual([]);
}, 90_000);

it('a missed run asks on the phone; Run runs it late in the schedule thread', async () => {
  const { page } = rig!.b;
  const { model, td } = rig!;
  const now = Date.now();
  // A schedule whose 07:00 run was missed while the computer slept and whose rule is "ask" (the
  // engine's detection is tested in the daemon's schedule tests; here the phone answers).
  const s: Schedule = {
    id: 'sch_phone_ask_1',
    title: 'Plants',
    text: 'Water the plants',
    when: { kind: 'daily', time: '07:00' },
    timeZone: 'UTC',
    catchUp: 'ask',
    state: 'active',
    createdAt: now - 86_400_000,
    updatedAt: now,
    accountedUntil: now - 60_000,
    nextRunAt: now + 86_400_000,
    history: [
      {
        id: 'occ_phone_ask_1',
        dueAt: now - 60_000,
        outcome: 'missed',
        reason: 'the computer was asleep.',
        ask: 'open',
      },
    ],
    spentUsd: 0,
  };
  await td.daemon.ctx.store.journal.transaction(async () => {
    await schedules().put(s);
    await td.daemon.ctx.emit({ kind: 'schedule.updated', schedule: s });
  });
  await page.goto(`${td.url}/#schedules`);
  const ask = page.getByRole('region', { name: /^Missed run / });
  await ask.getByText('was missed (the computer was asleep). Run it now?', { exact: false }).waitFor();
  model.push(reply(text('Watered.')));
  await ask.getByRole('button', { name: 'Run' }).click();
  await expect.poll(() => page.getByRole('region', { name: /^Missed run / }).count()).toBe(0);
  const card = page.locator('li.schedule', { hasText: 'Plants' });
  await card.getByText(/· ran \(late\)/).waitFor({ timeout: 15_000 });
  const after = schedules().get(s.id)!;
  expect(after.history.at(-1)).toMatchObject({ id: 'occ_phone_ask_1', ask: 'run', outcome: 'ran', late: true });
  expect(td.daemon.ctx.store.threads.summary(after.threadId!)?.title).toBe('Plants');
}, 60_000);

it('Skip tapped on the missed-run notification is sent by the app once it connects', async () => {
  const { page } = rig!.b;
  const { td } = rig!;
  const now = Date.now();
  const s: Schedule = {
    id: 'sch_notif_skip_1',
    title: 'Backups',
    text: 'Check the backups',
    when: { kind: 'daily', time: '06:00' },
    timeZone: 'UTC',
    catchUp: 'ask',
    state: 'active',
    createdAt: now - 86_400_000,
    updatedAt: now,
    accountedUntil: now - 60_000,
    nextRunAt: now + 86_400_000,
    history: [
      { id: 'occ_notif_1', dueAt: now - 60_000, outcome: 'missed', reason: 'Errand was not running.', ask: 'open' },
    ],
    spentUsd: 0,
  };
  await td.daemon.ctx.store.journal.transaction(async () => {
    await schedules().put(s);
    await td.daemon.ctx.emit({ kind: 'schedule.updated', schedule: s });
  });
  // What the service worker does on the notification's Skip: leave the decision, then open the app.
  await page.goto(`${td.url}/#`);
  await page.evaluate(
    (d) =>
      new Promise<void>((resolve, reject) => {
        const req = indexedDB.open('errand');
        req.onerror = () => reject(req.error);
        req.onsuccess = () => {
          const tx = req.result.transaction('kv', 'readwrite');
          tx.objectStore('kv').put(d, 'pending-schedule-decision');
          tx.oncomplete = () => {
            req.result.close();
            resolve();
          };
        };
      }),
    { scheduleId: s.id, occurrenceId: 'occ_notif_1', decision: 'skip', at: Date.now() },
  );
  await page.reload();
  await expect.poll(() => schedules().get(s.id)?.history.at(-1)?.ask, { timeout: 15_000 }).toBe('skip');
  // Sent once: the decision is gone from the phone.
  expect(await readKv(page, 'pending-schedule-decision')).toBeUndefined();
}, 60_000);

it('spending limits are set from the phone: at the daily cap new runs do not start, with the reason shown', async () => {
  const { page } = rig!.b;
  const { td } = rig!;
  await page.goto(`${td.url}/#schedules`);
  const card = page.getByRole('region', { name: 'Spending' });
  await card.getByText(/^Today \$\d+\.\d\d/).waitFor();
  // Earlier runs in this file cost a little; a cap below that is reached at once.
  await card.getByLabel('Daily cap ($, empty for none)').fill('0.00001');
  await card.getByLabel('Per task: pause and ask at ($, empty for none)').fill('3');
  await card.getByRole('button', { name: 'Save spending limits' }).click();
  await card.getByText('Saved.').waitFor();
  expect(td.daemon.ctx.config().spend.dailyUsd).toBe(0.00001);
  expect(td.daemon.ctx.config().agent.maxCostUsd).toBe(3);
  await card
    .getByRole('alert')
    .getByText(/^Today's spending cap is reached/)
    .waitFor();

  await page.getByRole('button', { name: 'Run Plants now' }).click();
  await page
    .getByRole('alert')
    .filter({ hasText: /spending cap/ })
    .first()
    .waitFor();
  await card.getByLabel('Daily cap ($, empty for none)').fill('');
  await card.getByRole('button', { name: 'Save spending limits' }).click();
  await expect.poll(() => card.getByRole('alert').count()).toBe(0);
  expect(td.daemon.ctx.config().spend.dailyUsd).toBeUndefined();
  expect(await unnamedControls(page)).toEqual([]);
}, 60_000);

it("the form's error goes once the input it is about changes: a missing date, a bad cron, a bad limit", async () => {
  const { page } = rig!.b;
  const { td } = rig!;
  await page.goto(`${td.url}/#schedules`);
  await page.getByRole('button', { name: 'New schedule' }).click();
  const form = page.getByRole('form', { name: 'New schedule' });
  const alert = form.getByRole('alert');
  await form.getByLabel('Task', { exact: true }).fill('Tidy Downloads');
  const save = form.getByRole('button', { name: 'Save schedule' });

  // "Once at…" without a date: the error goes when another kind of "When" is picked…
  await form.getByLabel('When').selectOption('once');
  await save.click();
  await alert.getByText('Pick a date and time for this run.').waitFor();
  await form.getByLabel('When').selectOption('daily');
  await expect.poll(() => alert.count()).toBe(0);
  // …or when a date is typed.
  await form.getByLabel('When').selectOption('once');
  await save.click();
  await alert.getByText('Pick a date and time for this run.').waitFor();
  await form.getByLabel('Date and time').fill('2031-05-04T09:30');
  await expect.poll(() => alert.count()).toBe(0);

  // The computer refuses a cron expression: switching "When" away from cron clears it.
  await form.getByLabel('When').selectOption('cron');
  await form.getByLabel('Cron expression (minute hour day month weekday)').fill('0 8 * *');
  await save.click();
  await alert.waitFor();
  expect(await alert.innerText()).toMatch(/cron/);
  await form.getByLabel('When').selectOption('weekdays');
  await expect.poll(() => alert.count()).toBe(0);

  // A limit that is not an amount: its error goes when the limit is edited.
  const limit = form.getByLabel('Spending limit per run ($, empty for the per-task limit)');
  await limit.fill('lots');
  await save.click();
  await alert.getByText(/limit per run is an amount/).waitFor();
  await limit.fill('2');
  await expect.poll(() => alert.count()).toBe(0);
  expect(
    schedules()
      .list()
      .some((s) => s.title === 'Tidy Downloads'),
  ).toBe(false);
}, 60_000);

/** The next day Berlin's clocks go forward (the last Sunday of March), at least two days ahead. */
function nextSpringForward(): string {
  for (let y = new Date().getUTCFullYear(); ; y++) {
    const d = new Date(Date.UTC(y, 2, 31));
    d.setUTCDate(31 - d.getUTCDay());
    if (d.getTime() > Date.now() + 2 * 86_400_000) return d.toISOString().slice(0, 10);
  }
}

it('a one-off at a time the clocks skip says so, and that it runs at the change', async () => {
  const { td, b } = rig!;
  // A phone in Berlin: the form sends the phone's own time zone.
  const page = await b.context.newPage();
  const cdp = await b.context.newCDPSession(page);
  await cdp.send('Emulation.setTimezoneOverride', { timezoneId: 'Europe/Berlin' });
  const day = nextSpringForward();
  await page.goto(`${td.url}/#schedules`);
  await page.getByRole('button', { name: 'New schedule' }).click();
  const form = page.getByRole('form', { name: 'New schedule' });
  await form.getByLabel('Task', { exact: true }).fill('Send the spring report');
  await form.getByLabel('Name (optional)').fill('Spring report');
  await form.getByLabel('When').selectOption('once');
  await form.getByLabel('Date and time').fill(`${day}T02:30`);
  await form.getByRole('button', { name: 'Save schedule' }).click();
  const card = page.locator('li.schedule', { hasText: 'Spring report' });
  await card.getByText(`${day} 03:00`).waitFor();
  await card
    .getByText(`02:30 doesn't exist on ${day} because the clocks go forward that night: it runs at the change, 03:00.`)
    .waitFor();
  const made = schedules()
    .list()
    .find((s) => s.title === 'Spring report');
  expect(made).toMatchObject({ timeZone: 'Europe/Berlin', nextRunSkipped: `${day}T02:30` });
  await card.getByText('Next run').scrollIntoViewIfNeeded();
  await shot(page, 'schedules-dst-gap');
  await cdp.detach();
  await page.close();
}, 60_000);

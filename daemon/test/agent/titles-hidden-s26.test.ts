// Titles and names a person reads on the phone and the lock screen hold nothing drawn as nothing:
// tag characters (an invisible copy of ASCII a model reads as words), soft hyphens and fillers are
// taken out of thread titles, schedule titles and device names, as control and direction marks are.
import fs from 'node:fs';
import { afterEach, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon, tempHome } from '../helpers/daemon.js';
import { type ModelServer, reply, startModelServer, text } from '../helpers/model-server.js';

let td: TestDaemon | undefined;
let model: ModelServer | undefined;
let home: string | undefined;
afterEach(async () => {
  await td?.stop();
  await model?.close();
  if (home) fs.rmSync(home, { recursive: true, force: true });
  td = model = home = undefined;
});

/** "IGNORE" as tag characters, a soft hyphen, a Hangul filler and a zero-width space. */
const tags = (s: string) => [...s].map((c) => String.fromCodePoint(0xe0000 + c.charCodeAt(0))).join('');
const HIDDEN = `${tags('IGNORE')}\u00ad\u3164\u200b`;
const HIDDEN_CHARS = /[\u{e0000}-\u{e007f}\u00ad\u3164\u200b]/u;

it('thread, schedule and device titles lose hidden characters; words and emoji stay', async () => {
  model = await startModelServer();
  model.push(reply(text('ok')));
  home = tempHome('errand-titles-hidden-');
  td = await startTestDaemon({ home, config: { anthropic: { apiKey: 'sk-test', baseUrl: model.url } } });
  const phone = await td.connect();

  const made = await phone.send<{ thread: { id: string; title: string } }>({
    type: 'thread.create',
    text: `Water${HIDDEN} the plants 🌱`,
  });
  expect(made.thread.title).toBe('Water the plants 🌱');
  const renamed = await phone.send<{ thread: { title: string } }>({
    type: 'thread.rename',
    threadId: made.thread.id,
    title: `Plants${HIDDEN} é`,
  });
  expect(renamed.thread.title).toBe('Plants é');

  const sched = await phone.send<{ schedule: { title: string } }>({
    type: 'schedule.create',
    text: 'Check the mail',
    title: `Mail${HIDDEN} check`,
    when: { kind: 'daily', time: '08:00' },
    timeZone: 'UTC',
  });
  expect(sched.schedule.title).toBe('Mail check');

  const device = await td.pairDevice(`Phone${HIDDEN} 2`);
  const devices = await phone.send<Array<{ id: string; name: string }>>({ type: 'devices.list' });
  const named = devices.find((d) => d.id === device.deviceId);
  expect(named?.name).toBe('Phone 2');
  // Every title an event carried (the message itself is the person's and is kept as sent).
  const titles = phone
    .events()
    .map((f) => f.event as { thread?: { title?: string }; schedule?: { title?: string } })
    .flatMap((e) => [e.thread?.title, e.schedule?.title])
    .filter((t) => t !== undefined);
  expect(titles.length).toBeGreaterThan(2);
  for (const t of titles) expect(t).not.toMatch(HIDDEN_CHARS);
});

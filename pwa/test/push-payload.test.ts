import { describe, expect, it } from 'vitest';
import { GENERIC, notificationFor } from '../src/push-payload.js';

const O = 'https://errand.example';

describe('push payload → notification', () => {
  it('shows a task push with a tag per thread and a link to that thread', () => {
    const n = notificationFor(
      { type: 'task.done', title: 'Report written', body: 'Q3-report.md', threadId: 'th_1' },
      O,
    );
    expect(n).toEqual({
      title: 'Report written',
      body: 'Q3-report.md',
      tag: 'thread-th_1',
      url: '/#thread=th_1',
      renotify: true,
    });
    expect(
      notificationFor({ type: 'approval', title: 'Run ls?', body: 'ls -la', threadId: 'th_1', tag: 'thread-th_1' }, O)
        .renotify,
    ).toBe(true);
  });

  it('falls back to a generic notification for anything it does not understand', () => {
    for (const bad of [undefined, null, 'text', 42, {}, { type: 'task.done' }, { title: '' }, { title: 7 }]) {
      expect(notificationFor(bad, O)).toEqual(GENERIC);
    }
    expect(GENERIC.body).toBe('Errand: something happened on your computer');
  });

  it('never links outside the app', () => {
    expect(notificationFor({ type: 'x', title: 't', url: 'https://evil.example/#thread=1' }, O).url).toBe('/');
    expect(notificationFor({ type: 'x', title: 't', url: '//evil.example/' }, O).url).toBe('/');
    expect(notificationFor({ type: 'x', title: 't', url: '/#settings' }, O).url).toBe('/#settings');
    expect(notificationFor({ type: 'x', title: 't', threadId: '../../x' }, O).url).toBe('/');
  });

  it('clips long text', () => {
    const n = notificationFor(
      { type: 'task.failed', title: 'x'.repeat(500), body: 'y'.repeat(5000), threadId: 't' },
      O,
    );
    expect(n.title.length).toBe(120);
    expect(n.body.length).toBe(300);
  });
});

describe('missed scheduled runs', () => {
  it('carry the schedule and occurrence for the Run and Skip buttons, only when both ids are sound', async () => {
    const { notificationFor } = await import('../src/push-payload.js');
    const base = { type: 'schedule.missed', title: '07:00 Plants was missed', body: 'Run it now?', url: '/#schedules' };
    expect(
      notificationFor({ ...base, schedule: { id: 'sch_a', occurrenceId: 'occ_1' } }, 'https://x').schedule,
    ).toEqual({
      id: 'sch_a',
      occurrenceId: 'occ_1',
    });
    expect(
      notificationFor({ ...base, schedule: { id: 'sch a/../', occurrenceId: 'occ_1' } }, 'https://x').schedule,
    ).toBeUndefined();
    expect(
      notificationFor({ ...base, type: 'task.done', schedule: { id: 'sch_a', occurrenceId: 'o' } }, 'https://x')
        .schedule,
    ).toBeUndefined();
  });
});

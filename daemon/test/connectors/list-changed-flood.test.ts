// A server's tools/list_changed notices are coalesced (one refresh at a time, one more queued,
// at most one a second), and a flood of them fails the connector with the reason.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Standalone, standaloneConnectors, until } from './standalone-connectors.js';

let s: Standalone | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

const tools = (description: string) => [{ name: 'do', description, inputSchema: { type: 'object' } }];
const listsSent = (name: string) => fs.statSync(path.join(s!.home, `${name}-tools.json.lists`)).size;

describe('tools/list_changed', () => {
  it('a burst of notices makes at most one refresh now and one after it', async () => {
    s = await standaloneConnectors();
    await s.manager.apply([s.scripted('ev', tools('Does a thing.'))]);
    await s.manager.settled();
    const conn = s.manager.get('ev')!;
    expect(listsSent('ev')).toBe(1);
    s.setTools('ev', tools('Does another thing.'));
    const burst = await conn.call('burst', { n: 20 }, new AbortController().signal, 10_000);
    expect(burst.content).toEqual([{ type: 'text', text: 'burst sent' }]);
    await until(() => conn.changedTools.includes('do'), 'the change to be seen');
    // A call answered after the burst: the server has handled every tools/list sent before it.
    await conn.call('after', {}, new AbortController().signal, 10_000);
    expect(listsSent('ev')).toBeLessThanOrEqual(3);
    await conn.refreshesDone();
    expect(listsSent('ev')).toBeLessThanOrEqual(3);
    expect(conn.status).toBe('connected');
  });

  it('a flood of notices fails the connector with the reason, after a handful of refreshes', async () => {
    s = await standaloneConnectors();
    await s.manager.apply([s.scripted('ev', tools('Does a thing.'))]);
    await s.manager.settled();
    const conn = s.manager.get('ev')!;
    void conn.call('burst', { n: 5000 }, new AbortController().signal, 10_000).catch(() => undefined);
    const failed = await until(
      () => s!.manager.statuses().find((c) => c.name === 'ev' && c.status === 'failed'),
      'the connector to fail',
    );
    expect(failed.reason).toMatch(
      /said its tools changed 101 times in 60s \(a flood of tools\/list_changed\).*retrying in 60s/,
    );
    expect(listsSent('ev')).toBeLessThanOrEqual(3);
  });
});

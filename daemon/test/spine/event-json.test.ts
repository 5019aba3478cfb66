// Each event is serialized once when its record is written: the record's bytes, the kept frame and
// the frame listeners get must equal what JSON.stringify gives for them, whatever the text holds.
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import type { ServerEvent } from '../../../shared/src/index.js';
import { EventLog } from '../../src/store/event-log.js';
import { scanJournal } from '../../src/store/journal.js';
import { tempHome } from '../helpers/daemon.js';

it('records and frames are byte for byte JSON.stringify of the record and of the frame', async () => {
  const dir = tempHome();
  const log = await EventLog.open(dir);
  const frames: string[] = [];
  const expected: string[] = [];
  log.subscribe((e, frame) => {
    frames.push(frame);
    expected.push(JSON.stringify({ type: 'event', seq: e.seq, at: e.at, event: e.event }));
  });
  const texts = ['plain', 'quote " backslash \\ newline \n tab \t', 'émoji 🙂 — “curly” \u2028 \u0000', ''];
  const events: ServerEvent[] = texts.map((text, i) => ({ kind: 'notice', level: 'info', text, at: i }));
  await Promise.all(events.map((e) => log.append(e)));
  await log.append({ kind: 'notice', level: 'warning', text: 'alone', at: 9 });
  expect(frames).toHaveLength(5);
  expect(frames).toEqual(expected);
  expect(log.framesSince(0)!.map((k) => k.frame.toString('utf8'))).toEqual(expected);
  await log.close();

  // On disk: every record's body is JSON.stringify of the record it parses to.
  const scan = scanJournal(dir);
  expect(scan.records.flatMap((r) => r.events.map((e) => e.event))).toEqual([
    ...events,
    { kind: 'notice', level: 'warning', text: 'alone', at: 9 },
  ]);
  const bytes = Buffer.concat(
    fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.wal'))
      .sort()
      .map((f) => fs.readFileSync(path.join(dir, f))),
  );
  let at = 0;
  for (const rec of scan.records) {
    const len = bytes.readUInt32LE(at);
    const body = bytes.subarray(at + 8, at + 8 + len).toString('utf8');
    expect(body).toBe(JSON.stringify(rec));
    at += 8 + len;
  }
  expect(at).toBe(bytes.length);
  fs.rmSync(dir, { recursive: true, force: true });
});

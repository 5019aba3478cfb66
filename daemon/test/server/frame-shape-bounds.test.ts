// A paired device cannot stall the host with frames slow to parse: a 1 MiB frame of ~90,000 keys or
// nested ~500,000 deep cost JSON.parse and zod about 300 ms each, every other device waiting. Such a
// frame is refused by a linear scan before it is parsed, with a bad_request naming the bound, and
// the connection stays; the largest real commands are nowhere near the bounds.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ClientCommand, MAX_FRAME } from '../../../shared/src/index.js';
import { frameShape, MAX_FRAME_DEPTH, MAX_FRAME_TOKENS } from '../../src/server/frame-shape.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import type { WsTestClient } from '../helpers/ws-client.js';

/** Text full of what the scan counts, quotes and backslashes: inside a string it is one value. */
const TRICKY = '{[,:]} "quoted" \\ \\" \\\\ ';
const problem = (text: string) => frameShape(text).problem;

it('the largest real commands pass the scan, their strings however long and however full of brackets', () => {
  const ids = Array.from({ length: 20 }, (_, i) => `upl_${String(i).padStart(20, '0')}`);
  const commands = [
    {
      id: 'create-largest',
      type: 'thread.create',
      text: TRICKY.repeat(3900),
      title: TRICKY.slice(0, 80),
      attachmentIds: ids,
    },
    { id: 'memory-largest', type: 'memory.put', path: '/memories/notes/{[,:]}.md', text: TRICKY.repeat(3900) },
    {
      id: 'push-largest',
      type: 'push.subscribe',
      subscription: {
        endpoint: `https://fcm.googleapis.com/fcm/send/${'x'.repeat(1900)}`,
        expirationTime: null,
        keys: { p256dh: 'p'.repeat(87), auth: 'a'.repeat(22) },
      },
    },
    {
      id: 'sched-largest',
      type: 'schedule.update',
      scheduleId: 'sch_1',
      title: 'Every week',
      text: TRICKY.repeat(700),
      when: { kind: 'cron', expr: '0 9 * * 1' },
      timeZone: 'America/Argentina/Buenos_Aires',
      catchUp: 'ask',
      catchUpWindowMinutes: 60,
      maxCostUsd: null,
    },
  ];
  for (const command of commands) {
    expect(ClientCommand.safeParse(command).success).toBe(true);
    expect(frameShape(JSON.stringify(command))).toEqual({ id: command.id });
  }
});

it('counts depth and tokens outside string bodies only, and finds where each string ends', () => {
  const nested = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
  expect(problem(nested(MAX_FRAME_DEPTH))).toBeUndefined();
  expect(problem(nested(MAX_FRAME_DEPTH + 1))).toMatch(/more than 32 deep/);
  // Depth is how deep, not how many: many shallow arrays in a row are fine.
  expect(problem(`[${Array(100).fill(nested(30)).join(',')}]`)).toBeUndefined();
  // One `[` and n - 1 commas; numbers are not counted, strings are (each one token, however long).
  const numbers = (n: number) => `[${Array(n).fill('0').join(',')}]`;
  expect(problem(numbers(MAX_FRAME_TOKENS))).toBeUndefined();
  expect(problem(numbers(MAX_FRAME_TOKENS + 1))).toMatch(/more than 10,000 fields and values/);
  expect(problem(`[${Array(5000).fill('"s"').join(',')}]`)).toBeUndefined();
  expect(problem(`[${Array(5001).fill('"s"').join(',')}]`)).toMatch(/more than 10,000 fields and values/);
  // Brackets in strings are text; an escaped quote does not end a string, an escaped backslash does not escape it.
  expect(problem(JSON.stringify({ k: '['.repeat(10_000) + ','.repeat(20_000) }))).toBeUndefined();
  expect(problem(`{"a":"\\"${'['.repeat(40)}"}`)).toBeUndefined();
  expect(problem(`{"a":"\\\\","b":${nested(MAX_FRAME_DEPTH)}}`)).toMatch(/more than 32 deep/);
  expect(problem(`{"a":"\\\\\\"${'['.repeat(40)}"}`)).toBeUndefined();
  // A string never closed hides the rest from the pass; JSON.parse refuses it at once.
  expect(problem(`{"a":"${'['.repeat(40)}`)).toBeUndefined();
  // A bracket closed that was never opened ends the pass: no JSON has one.
  expect(problem(`{"a":1}${']'.repeat(500_000)}`)).toBe('it is not valid JSON (it closes a bracket it never opened)');
});

it('names a refused frame\'s top-level "id" when the pass met it, of the shape ids have', () => {
  const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
  expect(frameShape(`{"id":"first-id-01","x":${deep(100)}}`)).toEqual({
    problem: expect.stringMatching(/more than 32 deep/),
    id: 'first-id-01',
  });
  expect(frameShape(`{"x":${deep(100)},"id":"late-id-01"}`)).toEqual({ problem: expect.any(String), id: undefined });
  const within = `{ "x" : ${deep(30)} , "inner":{"id":"inner-id-01"}, "s":"\\"id\\":\\"in-a-string\\"", "id" : "last-id-01" }`;
  expect(JSON.parse(within).id).toBe('last-id-01');
  expect(frameShape(within)).toEqual({ id: 'last-id-01' });
  expect(frameShape(`{"x":${deep(30)},"inner":{"id":"inner-id-01"}}`).id).toBeUndefined();
  expect(frameShape(`{"id":"short","x":1}`).id).toBeUndefined();
  expect(frameShape(`{"id":"${'i'.repeat(65)}"}`).id).toBeUndefined();
  expect(frameShape(`["id","not-a-key-01"]`).id).toBeUndefined();
});

describe('on a real host', () => {
  let td: TestDaemon;
  let flooder: WsTestClient;
  let other: WsTestClient;
  beforeEach(async () => {
    td = await startTestDaemon();
    flooder = await td.connect();
    other = await td.connect();
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await td.stop();
  });

  it('a 1 MiB frame of ~90,000 keys or nested ~500,000 deep is refused unparsed; the connection and other devices go on', async () => {
    let keys = '{"id":"flood0001","type":"ping"';
    for (let i = 0; keys.length < MAX_FRAME - 20; i++) keys += `,"k${i}":0`;
    keys += '}';
    const deep = `{"id":"flood0002","type":"ping","x":${'['.repeat(499_000)}${']'.repeat(499_000)}}`;
    expect(keys.length).toBeLessThanOrEqual(MAX_FRAME);
    expect(deep.length).toBeLessThanOrEqual(MAX_FRAME);
    // The host runs in this process: any JSON.parse of a frame this size would be seen here.
    const parse = vi.spyOn(JSON, 'parse');
    for (const [frame, id, bound] of [
      [keys, 'flood0001', 'it holds more than 10,000 fields and values'],
      [deep, 'flood0002', 'it nests objects and arrays more than 32 deep'],
    ]) {
      flooder.sendRaw(frame);
      const refused = await flooder.waitFor((f) => f.type === 'error' && f.id === id);
      expect(refused).toMatchObject({
        code: 'bad_request',
        message: `The frame was not read: ${bound}, far past any command (see docs/protocol.md).`,
      });
    }
    expect(parse.mock.calls.map(([text]) => String(text).length).filter((n) => n > 100_000)).toEqual([]);
    // The flooding device is answered as ever, and so is everyone else.
    expect(await flooder.send({ type: 'ping' })).toMatchObject({ pong: expect.any(Number) });
    expect(await other.send({ type: 'ping' })).toMatchObject({ pong: expect.any(Number) });
    expect(flooder.closed).toBeUndefined();
  });

  it('a command carrying the longest text allowed, full of brackets and quotes, is taken', async () => {
    const text = TRICKY.repeat(Math.floor(20_000 / TRICKY.length));
    await flooder.send({ type: 'instructions.put', text });
    expect(await flooder.send({ type: 'instructions.get' })).toMatchObject({ text });
  });
});

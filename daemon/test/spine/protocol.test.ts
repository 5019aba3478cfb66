// The wire protocol's promises: validation without crashing, at-most-once commands, and resume
// from the last sequence number with nothing missing or repeated.
import fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventLog } from '../../src/store/event-log.js';
import { startTestDaemon, type TestDaemon, tempHome } from '../helpers/daemon.js';
import type { WsTestClient } from '../helpers/ws-client.js';

let td: TestDaemon;
beforeEach(async () => {
  td = await startTestDaemon();
});
afterEach(async () => {
  await td.stop();
});

const notice = (text: string) => td.daemon.ctx.emit({ kind: 'notice', level: 'info', text, at: Date.now() });
const noticeTexts = (c: WsTestClient) => c.events().flatMap((f) => (f.event.kind === 'notice' ? [f.event.text] : []));

describe('validation', () => {
  it('answers malformed and unknown frames with an error and keeps the connection and daemon up', async () => {
    const c = await td.connect();
    c.sendRaw('{not json');
    await c.waitFor((f) => f.type === 'error' && f.code === 'bad_request' && /JSON/.test(f.message));
    c.sendRaw(JSON.stringify({ id: 'abcdefgh1', type: 'launch.missiles' }));
    await c.waitFor((f) => f.type === 'error' && f.id === 'abcdefgh1' && f.code === 'unknown_command');
    c.sendRaw(JSON.stringify({ id: 'abcdefgh2', type: 'device.rename', deviceId: 'x', name: 42 }));
    const bad = await c.waitFor((f) => f.type === 'error' && f.id === 'abcdefgh2');
    expect(bad).toMatchObject({ code: 'bad_request', message: expect.stringContaining('name') });
    c.sendRaw(JSON.stringify({ id: 'abcdefgh3', type: 'ping', extra: true }));
    await c.waitFor((f) => f.type === 'error' && f.id === 'abcdefgh3');
    expect(await c.send<{ pong: number }>({ type: 'ping' })).toEqual({ pong: expect.any(Number) });
    expect(c.closed).toBeUndefined();
  });

  it('closes a frame larger than the cap without taking the daemon down', async () => {
    const c = await td.connect();
    c.sendRaw('x'.repeat(2 * 1024 * 1024));
    expect((await c.waitClosed()).code).toBe(1009);
    const c2 = await td.connect();
    expect(await c2.send({ type: 'ping' })).toBeTruthy();
  });
});

describe('duplicate command ids', () => {
  it('a re-sent command id has the effect of once and gets the same reply, even on a new connection', async () => {
    const { token, deviceId } = await td.pairDevice('Original');
    const c = await td.connect({ token });
    const first = await c.send({ type: 'device.rename', deviceId, name: 'First' }, 'rename-cmd-0001');
    const again = await c.send({ type: 'device.rename', deviceId, name: 'First' }, 'rename-cmd-0001');
    expect(again).toEqual(first);
    c.close();
    const c2 = await td.connect({ token });
    expect(await c2.send({ type: 'device.rename', deviceId, name: 'First' }, 'rename-cmd-0001')).toEqual(first);
    const devices = await c2.send<Array<{ id: string; name: string }>>({ type: 'devices.list' });
    expect(devices.find((d) => d.id === deviceId)?.name).toBe('First');
    // The rename event went out once.
    expect(c2.events().filter((f) => f.event.kind === 'device.updated').length).toBe(0);
    const renames = c.events().filter((f) => f.event.kind === 'device.updated');
    expect(renames).toHaveLength(1);
  });

  it('the same id sent twice at once runs once', async () => {
    const { token, deviceId } = await td.pairDevice();
    const c = await td.connect({ token });
    const [a, b] = await Promise.all([
      c.send({ type: 'device.rename', deviceId, name: 'A' }, 'same-id-0002'),
      c.send({ type: 'device.rename', deviceId, name: 'A' }, 'same-id-0002'),
    ]);
    expect(a).toEqual(b);
    await new Promise((r) => setTimeout(r, 100));
    expect(c.events().filter((f) => f.event.kind === 'device.updated')).toHaveLength(1);
  });
});

describe('resume', () => {
  it('a client that reconnects with its last sequence number gets every later event once, in order', async () => {
    const { token } = await td.pairDevice();
    const c1 = await td.connect({ token });
    for (let i = 0; i < 5; i++) await notice(`before ${i}`);
    await c1.event('notice', (e) => e.text === 'before 4');
    const last = c1.lastSeq();
    c1.socket.terminate(); // a dropped connection, not a polite close
    for (let i = 0; i < 7; i++) await notice(`while away ${i}`);
    // Events keep flowing while the client re-authenticates and replays.
    const live = (async () => {
      for (let i = 0; i < 5; i++) await notice(`live ${i}`);
    })();
    const c2 = await td.connect({ token, lastSeq: last });
    await live;
    await c2.event('notice', (e) => e.text === 'live 4');
    const seqs = c2.events().map((f) => f.seq);
    expect(seqs[0]).toBe(last + 1);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(seqs.at(-1)! - seqs[0] + 1).toBe(seqs.length); // no gaps
    expect(noticeTexts(c2)).toEqual(
      [...Array(7)].map((_, i) => `while away ${i}`).concat([...Array(5)].map((_, i) => `live ${i}`)),
    );
  });

  it('sequence numbers survive a restart and keep increasing', async () => {
    await notice('one');
    const seq = td.daemon.ctx.store.events.lastSeq;
    const home = td.home;
    await td.stop();
    td = await startTestDaemon({ home });
    const next = await notice('two');
    expect(next).toBeGreaterThan(seq); // modules may announce their state at start, in between
    const { token } = await td.pairDevice();
    const c = await td.connect({ token, lastSeq: seq - 1 });
    expect(noticeTexts(c)).toEqual(['one', 'two']);
    expect(c.events()[0].seq).toBe(seq);
  });

  it('a client too far behind gets a snapshot, then live events', async () => {
    const dir = tempHome();
    const log = await EventLog.open(dir, { ringSize: 10 });
    for (let i = 0; i < 30; i++) await log.append({ kind: 'notice', level: 'info', text: String(i), at: 0 });
    expect(log.since(2)).toBeUndefined();
    expect(log.since(25)!.map((e) => e.seq)).toEqual([26, 27, 28, 29, 30]);
    await log.close();
    // A torn last record (crash mid-append) is cut off on the next open; earlier events stay.
    const seg = fs.readdirSync(dir).find((f) => f.endsWith('.wal'))!;
    expect(seg).toBeDefined();
    const torn = Buffer.alloc(20);
    torn.writeUInt32LE(500, 0); // a record header whose body was never written
    fs.appendFileSync(`${dir}/${seg}`, torn);
    const reopened = await EventLog.open(dir, { ringSize: 10 });
    expect(reopened.lastSeq).toBe(30);
    expect(await reopened.append({ kind: 'notice', level: 'info', text: 'after', at: 0 })).toBe(31);
    await reopened.close();
  });
});

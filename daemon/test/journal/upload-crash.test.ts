// Attachments across kill -9. An acknowledged upload (HTTP 200 with an id) is durable: it survives a
// crash and the message the phone's outbox sends after the restart uses it. A command with an
// attachment killed in the middle of its journal append (never acknowledged) leaves the upload usable:
// its resend with the same id runs once, with the attachment, and no second copy is left in the inbox.
// The upload store's start-up rules (partial uploads, stale ones, a crash between the record and the
// upload's removal) are checked directly on the folder.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ThreadSummary } from '../../../shared/src/index.js';
import { landAttachments } from '../../src/agent/attachments.js';
import { type UploadJournal, UploadStore } from '../../src/store/uploads.js';
import { ensureBuilt } from '../agent/build.js';
import { Homes } from './helpers.js';

const homes = new Homes();
const dirs: string[] = [];
afterEach(async () => {
  await homes.cleanup();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

type Created = { thread: ThreadSummary; task: { id: string } };
type Got = { items: Array<{ attachments?: Array<{ id: string; name: string; path: string }> }> };

async function upload(url: string, token: string, name: string, body: string) {
  const res = await fetch(`${url}/api/upload`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain', 'x-filename': name },
    body,
  });
  expect(res.status).toBe(200);
  return (await res.json()) as { id: string; name: string; size: number };
}

/** The files in a folder, without the dot files a durable write may be using. */
const filesIn = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => !n.startsWith('.')) : []);

describe('the real daemon, killed', () => {
  beforeAll(() => {
    expect(fs.existsSync(ensureBuilt('dist/daemon/src/cli/main.js'))).toBe(true);
  }, 180_000);

  it('an acknowledged upload survives kill -9: the message sent after the restart has the file', async () => {
    const { home, tokens } = await homes.home();
    const first = await homes.start(home);
    const up = await upload(first.url, tokens[0], 'notes-a.txt', 'data of notes-a');
    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');

    const second = await homes.start(home);
    const ws = await homes.connect(second.url, tokens[0]);
    const made = await ws.send<Created>(
      { type: 'thread.create', text: 'summarise the attachment', attachmentIds: [up.id] },
      'outbox-entry-000A',
    );
    const got = await ws.send<Got>({ type: 'thread.get', threadId: made.thread.id });
    expect(got.items[0].attachments).toEqual([expect.objectContaining({ id: up.id, path: 'inbox/notes-a.txt' })]);
    const file = path.join(home, 'workspace', 'inbox', 'notes-a.txt');
    expect(fs.readFileSync(file, 'utf8')).toBe('data of notes-a');
    // The upload is used up: its own files are gone, the inbox file is the only name of its bytes.
    expect(filesIn(path.join(home, 'uploads'))).toEqual([]);
    expect(fs.statSync(file).nlink).toBe(1);
    await expect(
      ws.send({ type: 'thread.create', text: 'again', attachmentIds: [up.id] }, 'outbox-entry-000C'),
    ).rejects.toMatchObject({ code: 'not_found' });
  });

  it('a thread.create with an attachment killed mid-append: the resent id runs once, with the attachment, and nothing is left over', async () => {
    const CMD = 'outbox-entry-000B';
    const { home, tokens } = await homes.home();
    const first = await homes.start(home, { ERRAND_TEST_CRASH: `mid-append:${CMD}` });
    const up = await upload(first.url, tokens[0], 'notes-b.txt', 'data of notes-b');
    const ws = await homes.connect(first.url, tokens[0], 0);
    ws.sendRaw(JSON.stringify({ type: 'thread.create', text: 'summarise notes-b', attachmentIds: [up.id], id: CMD }));
    expect((await first.exited).signal).toBe('SIGKILL');
    expect(ws.frames.some((f) => 'id' in f && f.id === CMD)).toBe(false);

    const second = await homes.start(home);
    expect(second.output()).toMatch(/cut off by a crash/);
    const again = await homes.connect(second.url, tokens[0], 0);
    const cmd = { type: 'thread.create' as const, text: 'summarise notes-b', attachmentIds: [up.id] };
    const resent = await again.send<Created>(cmd, CMD);
    expect(await again.send<Created>(cmd, CMD)).toEqual(resent);
    const list = await again.send<ThreadSummary[]>({ type: 'threads.list', includeArchived: true });
    expect(list.filter((t) => t.title === 'summarise notes-b').map((t) => t.id)).toEqual([resent.thread.id]);
    const got = await again.send<Got>({ type: 'thread.get', threadId: resent.thread.id });
    expect(got.items[0].attachments).toEqual([expect.objectContaining({ id: up.id, path: 'inbox/notes-b.txt' })]);
    const inbox = path.join(home, 'workspace', 'inbox');
    // One file, the one the message names: the first attempt's inbox file was used, not copied again.
    expect(filesIn(inbox)).toEqual(['notes-b.txt']);
    expect(fs.readFileSync(path.join(inbox, 'notes-b.txt'), 'utf8')).toBe('data of notes-b');
    expect(fs.statSync(path.join(inbox, 'notes-b.txt')).nlink).toBe(1);
    expect(filesIn(path.join(home, 'uploads'))).toEqual([]);

    // And after one more restart, nothing of it comes back.
    second.child.kill('SIGKILL');
    await second.exited;
    const third = await homes.start(home);
    const ws3 = await homes.connect(third.url, tokens[0]);
    expect(await ws3.send<Created>(cmd, CMD)).toEqual(resent);
    expect(filesIn(inbox)).toEqual(['notes-b.txt']);
  });
});

describe('the upload folder at start', () => {
  const folder = () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-uploads-'));
    dirs.push(d);
    return { uploads: path.join(d, 'uploads'), workspace: path.join(d, 'workspace') };
  };
  const quiet = { journal: { current: () => undefined } };
  /** A replay window holding the given events (what the journal committed before the crash). */
  const windowOf = (events: unknown[]): UploadJournal =>
    ({
      ...quiet,
      events: {
        ready: async () => undefined,
        lastSeq: events.length,
        framesSince: (seq: number) =>
          events.slice(seq).map((event, i) => ({
            seq: seq + i + 1,
            frame: Buffer.from(JSON.stringify({ type: 'event', seq, event })),
          })),
      },
    }) as unknown as UploadJournal;

  it('keeps whole uploads for their device, and removes partial ones and stray temp files', async () => {
    const { uploads } = folder();
    const before = new UploadStore(uploads);
    const u = await before.save('dev_a', 'photo.jpg', 'image/jpeg', Buffer.from('jpeg bytes'));
    // A crash mid-upload: bytes without their .json, and a durable write's temp file.
    fs.writeFileSync(path.join(uploads, 'upl_AAAAAAAAAAAAAAAA'), 'half');
    fs.writeFileSync(path.join(uploads, '.upl_AAAAAAAAAAAAAAAA.json.99999-0123abcd.tmp'), '{');

    const after = new UploadStore(uploads);
    await after.sweep(windowOf([]));
    expect(fs.readdirSync(uploads).sort()).toEqual([u.id, `${u.id}.json`]);
    expect(await after.take(u.id, 'dev_b')).toBeUndefined();
    const taken = await after.take(u.id, 'dev_a');
    expect(taken).toMatchObject({ id: u.id, name: 'photo.jpg', mediaType: 'image/jpeg', size: 10 });
    expect(fs.readFileSync(taken!.file, 'utf8')).toBe('jpeg bytes');
  });

  it('removes a stale upload and the inbox file a crashed attempt gave it, and nothing else', async () => {
    const { uploads, workspace } = folder();
    const before = new UploadStore(uploads);
    const u = await before.save('dev_a', 'notes.txt', 'text/plain', Buffer.from('notes'));
    const inbox = path.join(workspace, 'inbox');
    fs.mkdirSync(inbox, { recursive: true });
    fs.writeFileSync(path.join(inbox, 'mine.txt'), 'notes'); // the user's own file, same bytes
    // A command that crashed before its record: the upload noted its inbox file and made it.
    await before.take(u.id, 'dev_a');
    await before.land(u.id, path.join(inbox, 'notes.txt'));
    fs.linkSync(u.file, path.join(inbox, 'notes.txt'));

    const after = new UploadStore(uploads, { keepMs: 0, graceMs: 0 });
    await after.sweep(windowOf([]));
    await expect.poll(() => fs.readdirSync(uploads)).toEqual([]);
    expect(fs.readdirSync(inbox)).toEqual(['mine.txt']);
  });

  it('a crash after the record, before the upload was removed: the upload is used, the inbox file stays', async () => {
    const { uploads, workspace } = folder();
    const before = new UploadStore(uploads);
    const u = await before.save('dev_a', 'notes.txt', 'text/plain', Buffer.from('notes'));
    const inbox = path.join(workspace, 'inbox');
    fs.mkdirSync(inbox, { recursive: true });
    await before.take(u.id, 'dev_a');
    const file = path.join(inbox, 'notes.txt');
    await before.land(u.id, file);
    fs.linkSync(u.file, file);
    const item = {
      kind: 'item.added',
      threadId: 'thr_abcdefgh',
      item: {
        id: 'itm_1',
        attachments: [{ id: u.id, name: 'notes.txt', size: 5, mediaType: 'text/plain', path: 'inbox/notes.txt' }],
      },
    };

    const after = new UploadStore(uploads, { keepMs: 0, graceMs: 0 });
    await after.sweep(windowOf([{ kind: 'thread.updated' }, item]));
    expect(fs.readdirSync(uploads)).toEqual([]);
    expect(fs.readFileSync(file, 'utf8')).toBe('notes');
    expect(fs.statSync(file).nlink).toBe(1);
    expect(await after.take(u.id, 'dev_a')).toBeUndefined();
  });

  it('a message whose command failed gives its uploads back; the next one uses the same inbox file', async () => {
    const { uploads, workspace } = folder();
    const store = new UploadStore(uploads);
    const u = await store.save('dev_a', 'notes.txt', 'text/plain', Buffer.from('notes'));
    // A command that took it and failed after landing it (its record never written).
    const taken = (await store.take(u.id, 'dev_a'))!;
    const file = path.join(workspace, 'inbox', 'notes.txt');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    await store.land(u.id, file);
    fs.linkSync(taken.file, file);
    store.release(u.id);

    const landed = await landAttachments([u.id], 'dev_a', store, workspace);
    expect(landed.map((l) => l.file)).toEqual([file]);
    expect(fs.readdirSync(path.dirname(file))).toEqual(['notes.txt']);
    expect(fs.readdirSync(uploads)).toEqual([]);
    expect(fs.statSync(file).nlink).toBe(1);
  });
});

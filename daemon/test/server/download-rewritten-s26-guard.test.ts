// A download of a file small enough to be looked at whole before the answer starts is still
// looked at as it is sent: its bytes are read as the phone takes them, so a key written into the
// same file in place after that first look (an editor, `cat > f`, a running program) never leaves.
import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { nextApprovalOrEnd } from '../helpers/approval-waits.js';
import type { TestDaemon } from '../helpers/daemon.js';
import { startDownload } from '../helpers/downloads.js';
import { type ModelServer, reply, text, toolUse } from '../helpers/model-server.js';
import { API_KEY, startWithSecrets } from '../helpers/secrets-daemon.js';

let model: ModelServer | undefined;
let td: TestDaemon | undefined;
let home: string | undefined;
afterEach(async () => {
  await td?.stop();
  await model?.close();
  if (home) fs.rmSync(home, { recursive: true, force: true });
  td = model = home = undefined;
});

/** The whole body, and whether the download was cut before its end. */
async function bodyOf(res: http.IncomingMessage): Promise<{ body: Buffer; cut: boolean }> {
  const chunks: Buffer[] = [];
  try {
    for await (const c of res) chunks.push(c as Buffer);
    return { body: Buffer.concat(chunks), cut: !res.complete };
  } catch {
    return { body: Buffer.concat(chunks), cut: true };
  }
}

const SIZE = 16 * 1024 * 1024;

it('a key written into a file in place while it downloads is not sent; the download is cut', async () => {
  ({ model, td, home } = await startWithSecrets({ shell: { sandbox: 'off' } }, 'errand-dl-rewritten-'));
  const { token } = await td.pairDevice('second phone');
  const phone = await td.connect({ token });
  const ws = fs.realpathSync(path.join(home, 'workspace'));
  fs.mkdirSync(ws, { recursive: true });
  const file = path.join(ws, 'report.txt');
  // The task makes the file, so it is one a phone may download.
  model.push(
    reply(toolUse('shell', { argv: ['sh', '-c', `head -c ${SIZE} /dev/zero | tr '\\0' x > report.txt`], cwd: ws })),
    reply(text('Made.')),
  );
  const made = await phone.send<{ task: { id: string } }>({ type: 'thread.create', text: 'make the report' });
  const ask = await nextApprovalOrEnd(phone, made.task.id, new Set());
  await phone.send({ type: 'approval.decide', approvalId: ask!.id, hash: ask!.hash, decision: 'approve' });
  await phone.event('task.updated', (e) => e.task.id === made.task.id && e.task.state === 'done', 60_000);

  // Clean, it downloads whole, every byte as it is.
  const clean = await startDownload(td.url, token, made.task.id, file);
  expect(clean.status).toBe(200);
  const whole = await bodyOf(clean.res);
  expect(whole.cut).toBe(false);
  expect(whole.body.equals(fs.readFileSync(file))).toBe(true);

  // Looked at, answered 200, then the phone stops reading for a while (a slow link) ...
  const dl = await startDownload(td.url, token, made.task.id, file);
  expect(dl.status).toBe(200);
  dl.res.pause();
  // ... while the key is written into the same file, near its end (past what the buffers hold).
  const fd = fs.openSync(file, 'r+');
  fs.writeSync(fd, Buffer.from(`\nANTHROPIC_API_KEY=${API_KEY}\n`), 0, undefined, SIZE - 512 * 1024);
  fs.closeSync(fd);
  dl.res.resume();
  const got = await bodyOf(dl.res);
  expect(got.body.includes(API_KEY)).toBe(false);
  expect(got.body.includes(API_KEY.slice(0, 12))).toBe(false);
  expect(got.cut).toBe(true);
  expect(got.body.length).toBeLessThan(SIZE);

  // Downloaded again, it is refused whole with a sentence (looked at before the answer).
  const again = await startDownload(td.url, token, made.task.id, file);
  expect(again.status).toBe(403);
  expect((await bodyOf(again.res)).body.toString()).toContain('Open it on the computer');
}, 120_000);

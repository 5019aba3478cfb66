// Upload names reach readers (the phones' thread view, the CLI, the model) and name the file in
// workspace/inbox: they follow the one rule for text shown to readers (util/text.ts), so U+202E
// cannot make "\u202egnp.exe" read as "exe.png", and a name with nothing visible left is "file".
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { safeFileName } from '../../src/store/uploads.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

let td: TestDaemon;
beforeEach(async () => {
  td = await startTestDaemon();
});
afterEach(async () => {
  await td.stop();
});

async function upload(token: string, name: string): Promise<{ id: string; name: string }> {
  const res = await fetch(`${td.url}/api/upload`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'image/png', 'x-filename': encodeURIComponent(name) },
    body: 'not really a picture',
  });
  expect(res.status).toBe(200);
  return (await res.json()) as { id: string; name: string };
}

it('removes direction and invisible marks from an upload name, there and in the inbox', async () => {
  const { token } = await td.pairDevice();
  const reversed = await upload(token, '\u202egnp.exe');
  expect(reversed.name).toBe('gnp.exe');
  expect((await upload(token, 're\u200bport\u2066.pdf\u2069')).name).toBe('report.pdf');
  expect((await upload(token, '\u202e\u200b\ufeff')).name).toBe('file');

  const phone = await td.connect({ token });
  await phone.send({ type: 'thread.create', text: 'Here it is', attachmentIds: [reversed.id] });
  const inbox = path.join(td.daemon.ctx.paths.workspace, 'inbox');
  expect(fs.readdirSync(inbox)).toEqual(['gnp.exe']);
  phone.close();
});

it('keeps names safe to create: no folders, no hidden files, none left empty', () => {
  expect(safeFileName('../../\u202e.bashrc')).toBe('bashrc');
  expect(safeFileName(' \u200b.profile')).toBe('profile');
  expect(safeFileName('a<b>:c|d?e*.txt')).toBe('a_b__c_d_e_.txt');
  expect(safeFileName('line\nbreak\u0000.txt')).toBe('linebreak.txt');
  for (const empty of ['', '...', '\u202e', 'dir/', ' \u2028 ']) expect(safeFileName(empty)).toBe('file');
});

// No known secret reaches audit.log or a step's summary in part: a device's token (known only by its
// hash) and the API key in a command's arguments are redacted whole, before anything is shortened.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { reply, text, toolUse } from '../helpers/model-server.js';
import { API_KEY, type SecretsDaemon, startWithSecrets } from '../helpers/secrets-daemon.js';

let started: SecretsDaemon | undefined;
afterEach(async () => {
  await started?.td.stop();
  await started?.model.close();
  if (started) fs.rmSync(started.home, { recursive: true, force: true });
  started = undefined;
});

it('a command naming the API key and a device token: audit.log and the step summary hold neither, whole or in part', async () => {
  started = await startWithSecrets({}, 'errand-audit-secrets-');
  const { td, model, home } = started;
  const { token } = await td.pairDevice('second phone');
  const phone = await td.connect({ token });
  // Long enough that a summary or an audit line is shortened after the key: a cut key must not show.
  const line = `echo ${API_KEY}; echo ${token}; echo ${'x'.repeat(80)}`;
  model.push(reply(toolUse('shell', { argv: ['bash', '-c', line] }, 'toolu_sh')), reply(text('done')));
  const made = await phone.send<{ thread: { id: string }; task: { id: string } }>({
    type: 'thread.create',
    text: 'go',
  });
  const approval = (await phone.event('approval.requested', (e) => e.approval.taskId === made.task.id, 20_000))
    .approval;
  await phone.send({ type: 'approval.decide', approvalId: approval.id, hash: approval.hash, decision: 'approve' });
  await phone.event('task.updated', (e) => e.task.id === made.task.id && e.task.state === 'done', 20_000);

  const audit = fs.readFileSync(path.join(home, 'audit.log'), 'utf8');
  expect(audit).toContain('"tool":"shell"');
  const got = await phone.send<{ items: Array<Record<string, any>> }>({ type: 'thread.get', threadId: made.thread.id });
  const step = got.items.find((i) => i.kind === 'tool' && i.tool === 'shell');
  expect(step?.summary).toContain('[redacted]');
  for (const [what, sent] of [
    ['audit.log', audit],
    ['the step', JSON.stringify(step)],
    ['phone frames', JSON.stringify(phone.frames)],
  ] as const) {
    expect(sent, `${what} holds the token`).not.toContain(token.slice(0, 12));
    expect(sent, `${what} holds part of the key`).not.toContain('SECRETSECRET');
  }
});

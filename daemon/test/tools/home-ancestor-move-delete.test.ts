// A root that holds Errand's home folder (roots: ["~"] with the default ~/.local/state/errand): the
// model may not move or delete the home, nor a folder that holds it (its parent), not even through a
// link to it, and the check is repeated after the approval against where the path leads then. An
// ordinary folder beside it still moves, and moving something into the home's parent still works.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Approval, isActiveTaskState } from '../../../shared/src/index.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { type ModelServer, reply, startModelServer, text, toolUse } from '../helpers/model-server.js';
import type { WsTestClient } from '../helpers/ws-client.js';

let model: ModelServer;
let td: TestDaemon;
let phone: WsTestClient;
/** The allowed folder ("~"); the home is base/state/errand. */
let base: string;
let home: string;

beforeAll(async () => {
  model = await startModelServer();
  base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'errand-home-ancestor-')));
  home = path.join(base, 'state', 'errand');
  fs.mkdirSync(home, { recursive: true, mode: 0o700 });
  td = await startTestDaemon({
    home,
    config: {
      roots: [base],
      shell: { sandbox: 'off' },
      // Every move and delete asks, so a change can wait for its approval while its path is swapped.
      policy: {
        rules: [
          { tool: 'fs_move', decision: 'ask' },
          { tool: 'fs_delete', decision: 'ask' },
        ],
      },
      anthropic: { apiKey: 'sk-test-key', baseUrl: model.url, model: 'claude-sonnet-4-6' },
    },
  });
  phone = await td.connect();
});
afterAll(async () => {
  // Cleaned up even when the stop fails (as it does if the home was moved from under the daemon).
  try {
    await td?.stop();
  } finally {
    await model?.close();
    if (base) fs.rmSync(base, { recursive: true, force: true });
  }
});

/** Every tool result the model was sent, by tool_use id. */
function results(): Map<string, { isError: boolean; text: string }> {
  const out = new Map<string, { isError: boolean; text: string }>();
  for (const m of model.requests.at(-1)?.body.messages ?? [])
    for (const b of Array.isArray(m.content) ? m.content : [])
      if (b.type === 'tool_result')
        out.set(b.tool_use_id, {
          isError: b.is_error === true,
          text: (b.content as Array<{ text?: string }>).map((c) => c.text ?? '').join('\n'),
        });
  return out;
}

const approvals: Approval[] = [];

/** Start a task and answer each approval with `decide` (which may change the files first). */
async function runTask(prompt: string, decide: (a: Approval) => Promise<void> = async () => undefined) {
  const created = await phone.send<{ task: { id: string } }>({ type: 'thread.create', text: prompt });
  const taskId = created.task.id;
  const answered = new Set<string>();
  for (;;) {
    const f = await phone.waitFor(
      (fr) =>
        fr.type === 'event' &&
        ((fr.event.kind === 'approval.requested' &&
          fr.event.approval.taskId === taskId &&
          !answered.has(fr.event.approval.id)) ||
          (fr.event.kind === 'task.updated' && fr.event.task.id === taskId && !isActiveTaskState(fr.event.task.state))),
      20_000,
    );
    if (f.type !== 'event' || f.event.kind !== 'approval.requested') {
      expect(f.type === 'event' && f.event.kind === 'task.updated' && f.event.task.state).toBe('done');
      return;
    }
    const a = f.event.approval;
    answered.add(a.id);
    approvals.push(a);
    await decide(a);
    await phone.send({ type: 'approval.decide', approvalId: a.id, hash: a.hash, decision: 'approve' });
  }
}

const stateIntact = () => {
  expect(fs.existsSync(path.join(home, 'config.json'))).toBe(true);
  expect(fs.existsSync(path.join(home, 'store'))).toBe(true);
  expect(fs.readdirSync(path.join(home, 'trash'))).toEqual([]);
};

it('refuses moving or deleting the home or its parent, also through links, with no approval asked', async () => {
  fs.mkdirSync(path.join(base, 'docs'));
  fs.writeFileSync(path.join(base, 'docs', 'a.txt'), 'a');
  fs.writeFileSync(path.join(base, 'notes.txt'), 'n');
  fs.symlinkSync(path.join(base, 'state'), path.join(base, 'state-link'));
  fs.symlinkSync(home, path.join(base, 'home-link'));
  const refusals: Array<[string, string, Record<string, string>, RegExp]> = [
    [
      'toolu_m1',
      'fs_move',
      { from: path.join(base, 'state'), to: path.join(base, 'stolen') },
      /holds Errand's own state folder, so it cannot be moved or deleted/,
    ],
    [
      'toolu_d1',
      'fs_delete',
      { path: path.join(base, 'state') },
      /holds Errand's own state folder, so it cannot be moved or deleted/,
    ],
    [
      'toolu_m2',
      'fs_move',
      { from: path.join(base, 'state-link'), to: path.join(base, 'stolen') },
      /holds Errand's own state folder/,
    ],
    ['toolu_d2', 'fs_delete', { path: path.join(base, 'state-link') }, /holds Errand's own state folder/],
    ['toolu_m3', 'fs_move', { from: home, to: path.join(base, 'stolen') }, /Errand's own state folder/],
    ['toolu_d3', 'fs_delete', { path: home }, /Errand's own state folder/],
    [
      'toolu_m4',
      'fs_move',
      { from: path.join(base, 'home-link'), to: path.join(base, 'stolen') },
      /Errand's own state folder/,
    ],
    ['toolu_d4', 'fs_delete', { path: path.join(base, 'home-link') }, /Errand's own state folder/],
  ];
  model.push(
    reply(...refusals.map(([id, name, input]) => toolUse(name, input, id))),
    reply(
      toolUse('fs_move', { from: path.join(base, 'docs'), to: path.join(base, 'docs-moved') }, 'toolu_ok1'),
      toolUse(
        'fs_move',
        { from: path.join(base, 'notes.txt'), to: path.join(base, 'state', 'notes.txt') },
        'toolu_ok2',
      ),
      toolUse('fs_list', { path: path.join(base, 'state') }, 'toolu_ok3'),
    ),
    reply(text('Done.')),
  );
  await runTask('Tidy up my home folder');

  const got = results();
  for (const [id, name, , pattern] of refusals) {
    const r = got.get(id);
    expect(r?.isError, `${name} ${id}: ${r?.text}`).toBe(true);
    expect(r?.text).toMatch(pattern);
  }
  for (const id of ['toolu_ok1', 'toolu_ok2', 'toolu_ok3']) expect(got.get(id)?.isError, got.get(id)?.text).toBe(false);
  // The refusals asked nothing: only the two ordinary moves did.
  expect(approvals.map((a) => a.action.tool)).toEqual(['fs_move', 'fs_move']);
  expect(fs.readFileSync(path.join(base, 'docs-moved', 'a.txt'), 'utf8')).toBe('a');
  expect(fs.readFileSync(path.join(base, 'state', 'notes.txt'), 'utf8')).toBe('n');
  // Reading the home's parent works as before.
  expect(got.get('toolu_ok3')?.text).toContain('notes.txt');
  expect(fs.existsSync(path.join(base, 'stolen'))).toBe(false);
  stateIntact();
});

it('checks again after the approval: a link that leads to the home parent by then is refused', async () => {
  approvals.length = 0;
  for (const d of ['plain-1', 'plain-2']) fs.mkdirSync(path.join(base, d));
  fs.symlinkSync(path.join(base, 'plain-1'), path.join(base, 'swap-1'));
  fs.symlinkSync(path.join(base, 'plain-2'), path.join(base, 'swap-2'));
  model.push(
    reply(toolUse('fs_move', { from: path.join(base, 'swap-1'), to: path.join(base, 'away') }, 'toolu_s1')),
    reply(toolUse('fs_delete', { path: path.join(base, 'swap-2') }, 'toolu_s2')),
    reply(text('Done.')),
  );
  // While each call waits for the phone, its link is pointed at the home's parent.
  await runTask('Move the plain folders', async (a) => {
    const link = a.action.tool === 'fs_move' ? 'swap-1' : 'swap-2';
    fs.unlinkSync(path.join(base, link));
    fs.symlinkSync(path.join(base, 'state'), path.join(base, link));
  });
  expect(approvals.map((a) => a.action.tool)).toEqual(['fs_move', 'fs_delete']);
  const got = results();
  for (const id of ['toolu_s1', 'toolu_s2']) {
    expect(got.get(id)?.isError, got.get(id)?.text).toBe(true);
    expect(got.get(id)?.text).toMatch(/holds Errand's own state folder, so it cannot be moved or deleted/);
  }
  expect(fs.existsSync(path.join(base, 'away'))).toBe(false);
  expect(fs.existsSync(path.join(base, 'plain-1'))).toBe(true);
  expect(fs.existsSync(path.join(base, 'plain-2'))).toBe(true);
  stateIntact();
});

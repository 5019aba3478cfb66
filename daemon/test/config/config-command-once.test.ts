// A phone's spend.set or web.set takes effect once across a kill -9. It wrote config.json durably and
// then its journal record (reply and host.updated): a kill between the two kept the change and lost
// the reply, the phone's outbox sent the same id again, and the command ran again over a later
// change another device had made and been told of (a lowered cap raised again, web fetch back on).
// Now store/config-owed.json notes what the command owes before config.json is written; the next
// start pays it (one record: reply and event) and a resend gets that reply.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import type { HostStatus } from '../../../shared/src/index.js';
import { scanJournal } from '../../src/store/journal-format.js';
import { ensureBuilt } from '../agent/build.js';
import { Homes } from '../journal/helpers.js';

const homes = new Homes();
const gates: string[] = [];
beforeAll(() => {
  expect(fs.existsSync(ensureBuilt('dist/daemon/src/cli/main.js'))).toBe(true);
}, 180_000);
afterEach(async () => {
  await homes.cleanup();
  for (const g of gates.splice(0)) fs.rmSync(g, { recursive: true, force: true });
});

const env = { ANTHROPIC_API_KEY: 'sk-test-key' };
/** Kill -9 right after the note of what the command owes is in place, before config.json is written. */
const killAfterNote = {
  NODE_OPTIONS: `--require ${path.join(import.meta.dirname, 'kill-after-sync-rename.cjs')}`,
  ERRAND_TEST_KILL_AFTER_SYNC_RENAME: '/config-owed\\.json$',
};

const configOf = (home: string) => JSON.parse(fs.readFileSync(path.join(home, 'config.json'), 'utf8'));
const owedFile = (home: string) => path.join(home, 'store', 'config-owed.json');

/** Each command: a first change, and a later one from another device that the resend must not undo. */
const cases = [
  {
    name: 'spend.set',
    initial: {},
    first: { type: 'spend.set', dailyUsd: 50 },
    later: { type: 'spend.set', dailyUsd: 1 },
    byHand: { spend: { dailyUsd: 7 } },
    inFile: (c: { spend?: { dailyUsd?: number } }) => c.spend?.dailyUsd,
    inStatus: (s: HostStatus) => s.spend?.dailyCapUsd,
    inReply: (r: { spend?: HostStatus['spend'] }) => r.spend?.dailyCapUsd,
    values: { first: 50, later: 1, byHand: 7 },
  },
  {
    name: 'web.set',
    initial: { web: { fetch: false } },
    first: { type: 'web.set', fetch: true },
    later: { type: 'web.set', fetch: false },
    byHand: { web: { fetch: false, search: false } },
    inFile: (c: { web?: { fetch?: boolean } }) => c.web?.fetch,
    inStatus: (s: HostStatus) => s.web?.fetch,
    inReply: (r: { web?: HostStatus['web'] }) => r.web?.fetch,
    values: { first: true, later: false, byHand: false },
  },
] as const;
type Case = (typeof cases)[number];

/** A home with two phones and the case's starting config.json. */
async function homeFor(c: Case) {
  const made = await homes.home(['Phone A', 'Phone B']);
  fs.writeFileSync(path.join(made.home, 'config.json'), JSON.stringify(c.initial), { mode: 0o600 });
  return made;
}

/**
 * The journal's records that remember a reply to `id`, each with the settings its host.updated
 * events show (read with the daemon killed: the records on disk are what a start reads). Shown as a
 * set: the tools module announces each config reload too (tools/index.ts onConfig), and a quick one
 * joins the command's record. A change paid twice would be a second record.
 */
function paidRecords(home: string, id: string, c: Case) {
  return scanJournal(path.join(home, 'store', 'wal'))
    .records.filter((r) => r.ops.some((o) => o.t === 'reply' && (o.d as { id: string }).id === id))
    .map((r) => ({
      ok: r.ops.some((o) => o.t === 'reply' && (o.d as { ok: boolean }).ok),
      shown: [
        ...new Set(r.events.flatMap((e) => (e.event.kind === 'host.updated' ? [c.inStatus(e.event.status)] : []))),
      ],
    }));
}

async function kill(d: Awaited<ReturnType<Homes['start']>>) {
  d.child.kill('SIGKILL');
  await d.exited;
}

for (const c of cases) {
  it(`${c.name} killed between config.json and its record: the change stays, is published once, and a resend gets the first reply without undoing a later change`, async () => {
    const { home, tokens } = await homeFor(c);
    const first = await homes.start(home, { ...env, ERRAND_TEST_CRASH: 'mid-append:cfg-000001' });
    (await homes.connect(first.url, tokens[0])).sendRaw(JSON.stringify({ ...c.first, id: 'cfg-000001' }));
    expect((await first.exited).signal).toBe('SIGKILL');
    expect(c.inFile(configOf(home))).toBe(c.values.first); // written before the kill
    expect(fs.existsSync(owedFile(home))).toBe(true); // and what it owes, before that

    // The start pays it (reply and event, one record) before the server listens, and drops the note.
    const second = await homes.start(home, env);
    expect(fs.existsSync(owedFile(home))).toBe(false);
    const wsB = await homes.connect(second.url, tokens[1], 0);
    expect(c.inStatus(await wsB.send<HostStatus>({ type: 'status.get' }))).toBe(c.values.first);
    await wsB.send(c.later, 'cfg-000002'); // another device's change, acknowledged
    expect(c.inFile(configOf(home))).toBe(c.values.later);

    const wsA = await homes.connect(second.url, tokens[0]);
    const resent = await wsA.send<Record<string, unknown>>(c.first, 'cfg-000001');
    expect(c.inReply(resent)).toBe(c.values.first); // the first reply: the config the change made
    expect(await wsA.send(c.first, 'cfg-000001')).toEqual(resent);
    expect(c.inFile(configOf(home))).toBe(c.values.later); // B's change stays
    expect(c.inStatus(await wsB.send<HostStatus>({ type: 'status.get' }))).toBe(c.values.later);

    // Paid once, with one host.updated showing the change; one more kill -9 and start pays nothing again.
    await kill(second);
    expect(paidRecords(home, 'cfg-000001', c)).toEqual([{ ok: true, shown: [c.values.first] }]);
    const third = await homes.start(home, env);
    expect(await (await homes.connect(third.url, tokens[0])).send(c.first, 'cfg-000001')).toEqual(resent);
    expect(c.inFile(configOf(home))).toBe(c.values.later);
    await kill(third);
    expect(paidRecords(home, 'cfg-000001', c)).toEqual([{ ok: true, shown: [c.values.first] }]);
  }, 120_000);
}

it('spend.set killed after its note, before config.json was written: the start rolls it forward and pays it once', async () => {
  const c = cases[0];
  const { home, tokens } = await homeFor(c);
  const first = await homes.start(home, { ...env, ...killAfterNote });
  (await homes.connect(first.url, tokens[0])).sendRaw(JSON.stringify({ ...c.first, id: 'cfg-000003' }));
  expect((await first.exited).signal).toBe('SIGKILL');
  expect(c.inFile(configOf(home))).toBeUndefined(); // config.json not written yet

  const second = await homes.start(home, env);
  expect(c.inFile(configOf(home))).toBe(c.values.first);
  const wsB = await homes.connect(second.url, tokens[1]);
  expect(c.inStatus(await wsB.send<HostStatus>({ type: 'status.get' }))).toBe(c.values.first);
  await wsB.send(c.later, 'cfg-000004');
  const resent = await (await homes.connect(second.url, tokens[0])).send<Record<string, unknown>>(
    c.first,
    'cfg-000003',
  );
  expect(c.inReply(resent)).toBe(c.values.first);
  expect(c.inFile(configOf(home))).toBe(c.values.later);
  await kill(second);
  expect(paidRecords(home, 'cfg-000003', c)).toEqual([{ ok: true, shown: [c.values.first] }]);
}, 120_000);

it('config.json edited by hand while Errand was down, after a kill cut a change off: the edit is kept, the change is paid as it is', async () => {
  const c = cases[0];
  const { home, tokens } = await homeFor(c);
  const first = await homes.start(home, { ...env, ERRAND_TEST_CRASH: 'mid-append:cfg-000005' });
  (await homes.connect(first.url, tokens[0])).sendRaw(JSON.stringify({ ...c.first, id: 'cfg-000005' }));
  expect((await first.exited).signal).toBe('SIGKILL');
  fs.writeFileSync(path.join(home, 'config.json'), JSON.stringify(c.byHand));

  const second = await homes.start(home, env);
  expect(configOf(home)).toEqual(c.byHand);
  const resent = await (await homes.connect(second.url, tokens[0])).send<Record<string, unknown>>(
    c.first,
    'cfg-000005',
  );
  expect(c.inReply(resent)).toBe(c.values.byHand);
  expect(configOf(home)).toEqual(c.byHand);
}, 120_000);

for (const c of cases)
  it(`${c.name} on a full disk (its note or config.json) answers that the disk is full and changes nothing, not after a kill -9 either`, async () => {
    const { home, tokens } = await homeFor(c);
    const gateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-full-'));
    gates.push(gateDir);
    const full = {
      NODE_OPTIONS: `--require ${path.join(import.meta.dirname, 'fail-sync-temp-writes.cjs')}`,
      ERRAND_TEST_FULL_GATES: gateDir,
    };
    const before = fs.readFileSync(path.join(home, 'config.json'), 'utf8');
    const first = await homes.start(home, { ...env, ...full });
    const wsA = await homes.connect(first.url, tokens[0]);
    const wsB = await homes.connect(first.url, tokens[1], 0);
    const statusBefore = c.inStatus(await wsB.send<HostStatus>({ type: 'status.get' }));
    const refusal = (id: string) =>
      wsA.send(c.first, id).then(
        () => 'ok',
        (e: Error & { code?: string }) => `${e.code}: ${e.message}`,
      );
    const diskFull = `unavailable: The host could not save this: disk full at ${fs.realpathSync(home)}. Free some space, then send it again.`;

    // The note is written, config.json is not: the note is taken back.
    fs.writeFileSync(path.join(gateDir, 'config.json'), '');
    expect(await refusal('full-000001')).toBe(diskFull);
    expect(fs.existsSync(owedFile(home))).toBe(false);
    // The note cannot be written: config.json is not touched.
    fs.rmSync(path.join(gateDir, 'config.json'));
    fs.writeFileSync(path.join(gateDir, 'config-owed.json'), '');
    expect(await refusal('full-000002')).toBe(diskFull);

    expect(fs.readFileSync(path.join(home, 'config.json'), 'utf8')).toBe(before);
    expect(c.inStatus(await wsB.send<HostStatus>({ type: 'status.get' }))).toBe(statusBefore);
    expect(
      wsB.events().filter((f) => f.event.kind === 'host.updated' && c.inStatus(f.event.status) === c.values.first),
    ).toEqual([]);

    // A kill -9 and a start roll nothing forward and publish nothing for them.
    await kill(first);
    expect(paidRecords(home, 'full-000001', c)).toEqual([]);
    const second = await homes.start(home, env);
    expect(fs.readFileSync(path.join(home, 'config.json'), 'utf8')).toBe(before);
    // Sent again with room, the same id runs, once.
    const wsA2 = await homes.connect(second.url, tokens[0]);
    expect(c.inReply(await wsA2.send(c.first, 'full-000001'))).toBe(c.values.first);
    expect(c.inFile(configOf(home))).toBe(c.values.first);
    await kill(second);
    expect(paidRecords(home, 'full-000001', c)).toEqual([{ ok: true, shown: [c.values.first] }]);
    expect(paidRecords(home, 'full-000002', c)).toEqual([]);
  }, 120_000);

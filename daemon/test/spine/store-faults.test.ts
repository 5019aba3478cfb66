// The store's reliability promises against real processes and real files: corrupt files are
// refused and left untouched, one daemon per home, kill -9 leaves a loadable store, SIGTERM is clean.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { homePaths } from '../../src/config/paths.js';
import { openStore } from '../../src/store/index.js';
import { scanJournal } from '../../src/store/journal.js';
import { PROJECT_ROOT } from '../../src/util/project-root.js';
import { freePort, runErrand, spawnDaemon } from '../helpers/cli.js';
import { tempHome } from '../helpers/daemon.js';
import { WsTestClient } from '../helpers/ws-client.js';

async function initialisedHome(): Promise<string> {
  const home = tempHome();
  const store = await openStore(homePaths(home));
  await store.threads.create('hello', () => undefined);
  await store.close();
  return home;
}

describe('corrupt store', () => {
  for (const [what, content] of [
    ['not valid JSON', '{"schema": 1, "devices": [{"id'],
    ['an unknown schema version', JSON.stringify({ schema: 99, devices: [] })],
  ] as const) {
    it(`refuses to start on a store file that is ${what}, names it, and leaves it byte-for-byte untouched`, async () => {
      const home = await initialisedHome();
      const file = path.join(home, 'store', 'devices.json');
      fs.writeFileSync(file, content);
      const before = fs.readFileSync(file);
      const backupsBefore = fs.readdirSync(path.join(home, 'backups'));
      const r = await runErrand(['start'], { ERRAND_HOME: home, ERRAND_PORT: String(await freePort()) });
      expect(r.code).toBe(65);
      expect(r.stderr).toContain(file);
      expect(r.stderr).toMatch(what === 'not valid JSON' ? /not valid JSON/ : /schema version 99/);
      expect(fs.readFileSync(file).equals(before)).toBe(true);
      expect(fs.readdirSync(path.join(home, 'backups'))).toEqual(backupsBefore);
      expect(fs.existsSync(path.join(home, 'daemon.lock'))).toBe(false);
    });
  }

  it('keeps the previous versions: every thread change is its own journal record; devices.json keeps a .bak', async () => {
    const home = await initialisedHome();
    const store = await openStore(homePaths(home));
    const [t] = store.threads.list();
    await store.threads.update(t.id, (d) => {
      d.meta.title = 'first';
    });
    await store.threads.update(t.id, (d) => {
      d.meta.title = 'second';
    });
    await store.devices.add('phone one', undefined);
    await store.devices.add('phone two', undefined);
    const bak = JSON.parse(fs.readFileSync(path.join(home, 'store', 'devices.json.bak'), 'utf8'));
    await store.close();
    const titles = scanJournal(path.join(home, 'store', 'wal'))
      .records.flatMap((r) => r.ops)
      .flatMap((op) =>
        (op.d as { meta?: { title: string } }).meta ? [(op.d as { meta: { title: string } }).meta.title] : [],
      );
    expect(titles.slice(-2)).toEqual(['first', 'second']);
    expect(bak.devices.map((d: { name: string }) => d.name)).toEqual(['phone one']);
    expect(fs.readdirSync(path.join(home, 'backups')).length).toBeGreaterThanOrEqual(2);
  });
});

describe('configuration errors', () => {
  it('stops with a message naming the key and what is allowed, exit 78', async () => {
    const home = tempHome();
    fs.writeFileSync(path.join(home, 'config.json'), JSON.stringify({ agent: { maxParallelTasks: 0 } }));
    const r = await runErrand(['start'], { ERRAND_HOME: home });
    expect(r.code).toBe(78);
    expect(r.stderr).toContain('"agent.maxParallelTasks"');
    expect(r.stderr).toMatch(/>=1|at least 1|too small/i);
  });

  it('refuses a bad ERRAND_PORT', async () => {
    const r = await runErrand(['start'], { ERRAND_HOME: tempHome(), ERRAND_PORT: 'eighty' });
    expect(r.code).toBe(78);
    expect(r.stderr).toContain('ERRAND_PORT');
  });
});

describe('one daemon per home, clean stop', () => {
  it('a second daemon exits non-zero naming the process that holds the lock; SIGTERM stops the first cleanly', async () => {
    const home = tempHome();
    const port = await freePort();
    const first = await spawnDaemon({ ERRAND_HOME: home }, port);
    try {
      const second = await runErrand(['start'], { ERRAND_HOME: home, ERRAND_PORT: String(await freePort()) });
      expect(second.code).toBe(75);
      expect(second.stderr).toContain(`process ${first.child.pid}`);

      // A connected client is told the host is going away; the daemon exits 0 within a few seconds.
      const paired = await runErrand(['devices', '--json'], { ERRAND_HOME: home });
      expect(JSON.parse(paired.stdout)).toEqual([]);
      const status = await runErrand(['status', '--json'], { ERRAND_HOME: home });
      expect(JSON.parse(status.stdout).pid).toBe(first.child.pid);
      const ws = WsTestClient.raw(first.url);
      await new Promise((r) => ws.once('open', r));
      const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
      const t0 = Date.now();
      first.child.kill('SIGTERM');
      const exit = await first.exited;
      expect(exit.code).toBe(0);
      expect(Date.now() - t0).toBeLessThan(8000); // "within a few seconds", with room for a loaded CI machine
      expect(await closed).toBe(1001);
      expect(fs.existsSync(path.join(home, 'daemon.lock'))).toBe(false);
      expect(fs.existsSync(path.join(home, 'control.sock'))).toBe(false);
    } finally {
      first.child.kill('SIGKILL');
    }
  });

  it('CLI commands say in one line when no daemon runs, and exit non-zero', async () => {
    for (const cmd of [['status'], ['devices'], ['pair']]) {
      const r = await runErrand(cmd, { ERRAND_HOME: tempHome() });
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/No Errand daemon is running/);
    }
  });

  it('home folder is 0700 and state files are 0600', async () => {
    const home = tempHome();
    fs.chmodSync(home, 0o755);
    const d = await spawnDaemon({ ERRAND_HOME: home }, await freePort());
    try {
      expect(fs.statSync(home).mode & 0o777).toBe(0o700);
      const wal = fs.readdirSync(path.join(home, 'store', 'wal')).map((f) => `store/wal/${f}`);
      expect(wal.some((f) => f.endsWith('.wal'))).toBe(true);
      expect(fs.statSync(path.join(home, 'store', 'wal')).mode & 0o777).toBe(0o700);
      for (const f of [...wal, 'store/devices.json', 'daemon.lock', 'control.sock', 'logs/daemon.log']) {
        expect(fs.statSync(path.join(home, f)).mode & 0o777, f).toBe(0o600);
      }
    } finally {
      d.child.kill('SIGTERM');
      await d.exited;
    }
  });
});

describe('kill -9', () => {
  it('during heavy writing leaves a store that loads, with every acknowledged write', async () => {
    const home = tempHome();
    const script = path.join(PROJECT_ROOT, 'dist', 'daemon', 'test', 'fixtures', 'heavy-writer.js');
    for (let round = 0; round < 3; round++) {
      const child = spawn(process.execPath, [script, home], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      await new Promise<void>((resolve) =>
        child.stdout!.on('data', (d) => {
          out += d;
          if (out.includes('ready')) resolve();
        }),
      );
      await new Promise((r) => setTimeout(r, 300 + round * 200));
      child.kill('SIGKILL');
      await new Promise((r) => child.on('exit', r));
      const store = await openStore(homePaths(home)); // must not throw
      expect(store.threads.list().length).toBe(20 * (round + 1));
      const acks = [...out.matchAll(/^ack (\d+) (\S+)$/gm)];
      expect(acks.length).toBeGreaterThan(0);
      const [, n, threadId] = acks.at(-1)!;
      const doc = await store.threads.load(threadId);
      expect(doc.items.some((i) => i.id === `m${n}`)).toBe(true);
      expect(store.events.lastSeq).toBeGreaterThan(0);
      await store.close();
    }
  });
});

// `errand doctor` finds a home folder `errand start` would refuse (exit 78), in start's own words:
// read-only (a real read-only bind mount), not the user's (run as another user), a file where the
// folder belongs. Before, doctor said only "daemon not running". Mounting and switching users need
// root, as the other such tests.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { inspectHome } from '../../src/doctor/home-check.js';
import { type CliResult, ERRAND_BIN, freePort } from '../helpers/cli.js';
import { canMountSmallDisk } from '../helpers/small-disk.js';

const isRoot = process.getuid?.() === 0;
const NOBODY = 65534;
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-doctor-home-'));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The built `errand`, optionally as another user. */
function errand(args: string[], home: string, uid?: number): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [ERRAND_BIN, ...args], {
      // The model endpoint doctor asks is a closed local port: no request leaves this machine.
      env: {
        PATH: process.env.PATH ?? '',
        ERRAND_HOME: home,
        ANTHROPIC_API_KEY: '',
        ANTHROPIC_BASE_URL: 'http://127.0.0.1:9',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(uid === undefined ? {} : { uid, gid: uid }),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Start refuses the home; doctor's "Home folder" check fails with the same problem and fix. */
async function expectDoctorSaysWhatStartSays(home: string, uid?: number): Promise<void> {
  const start = await errand(['start', '--port', String(await freePort())], home, uid);
  expect(start.code).toBe(78);
  const doctor = await errand(['doctor', '--json'], home, uid);
  expect(doctor.code).toBe(1);
  const check = (
    JSON.parse(doctor.stdout) as { checks: { id: string; status: string; detail: string; fix: string }[] }
  ).checks.find((c) => c.id === 'home');
  expect(check?.status).toBe('fail');
  const problem = check!.detail.replace(/: Errand will not start$/, '');
  expect(start.stderr.trim()).toBe(`errand start: ${problem}. ${check!.fix}`);
}

it.runIf(canMountSmallDisk)("a read-only home: doctor fails it with start's text and fix", async () => {
  const src = tempDir();
  fs.mkdirSync(path.join(src, 'home'), { mode: 0o700 });
  fs.writeFileSync(path.join(src, 'home', 'config.json'), '{}\n', { mode: 0o600 });
  const home = tempDir();
  execFileSync('mount', ['--bind', path.join(src, 'home'), home]);
  cleanups.push(() => execFileSync('umount', [home]));
  execFileSync('mount', ['-o', 'remount,ro,bind', home]);
  expect(() => fs.writeFileSync(path.join(home, 'probe'), '')).toThrow(/EROFS/);

  await expectDoctorSaysWhatStartSays(home);
  const human = await errand(['doctor'], home);
  expect(human.stdout).toMatch(/FAIL {2}Home folder +\S+ is on a read-only file system/);
});

it.runIf(isRoot)("a home that is not the user's: doctor fails it with start's text and fix", async () => {
  const parent = tempDir();
  fs.chmodSync(parent, 0o755); // the other user may reach it, not write in it
  const home = path.join(parent, 'home');
  fs.mkdirSync(home, { mode: 0o700 }); // root's
  await expectDoctorSaysWhatStartSays(home, NOBODY);
});

it('a file where the home belongs, a missing home, and one others may open', () => {
  const dir = tempDir();
  const file = path.join(dir, 'home');
  fs.writeFileSync(file, 'not a folder');
  expect(inspectHome(file)).toMatchObject({
    status: 'fail',
    detail: `${file} (or a folder above it) is a file where Errand keeps a folder: Errand will not start`,
  });
  expect(inspectHome(path.join(dir, 'new', 'home'))).toMatchObject({ status: 'ok' });
  const open = path.join(dir, 'open');
  fs.mkdirSync(open, { mode: 0o755 });
  fs.chmodSync(open, 0o755);
  expect(inspectHome(open)).toMatchObject({
    status: 'warn',
    fix: `Run \`chmod 700 ${open}\` (the next start does it too).`,
  });
});

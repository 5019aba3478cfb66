// `errand start` in a terminal with no phone paired shows a pairing code and asks about a claim on
// it. How that pairing ends is said there, as `errand pair` says it: the phone that stopped waiting
// (its request died) while "Approve this device?" was open, a code a newer `errand pair` replaced,
// and an approval typed in the terminal. Run in a real pseudo-terminal (script(1)), as a person does.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { afterEach, expect, it } from 'vitest';
import { homePaths } from '../../src/config/paths.js';
import { ERRAND_BIN, freePort, runErrand } from '../helpers/cli.js';
import { tempHome } from '../helpers/daemon.js';

const hasScript = process.platform === 'linux' && spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function until(what: string, ok: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** `errand start` on a fresh home in a pseudo-terminal; `type` is the keyboard, `screen` what it shows. */
async function startInTerminal() {
  const home = tempHome('errand-start-pairing-');
  const port = await freePort();
  const env = { PATH: process.env.PATH ?? '', ERRAND_HOME: home, ERRAND_PORT: String(port), TERM: 'dumb' };
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const child: ChildProcess = spawn(
    'script',
    ['-qfec', `${quote(process.execPath)} ${quote(ERRAND_BIN)} start`, '/dev/null'],
    {
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let screen = '';
  child.stdout!.on('data', (d) => (screen += d));
  child.stderr!.on('data', (d) => (screen += d));
  const exited = new Promise((r) => child.once('exit', r));
  cleanups.push(async () => {
    // The daemon, not script(1): a terminal that goes away does not end it (on purpose).
    const pid = Number(fs.readFileSync(homePaths(home).lock, 'utf8').split(' ')[0]);
    if (pid > 0 && alive(pid)) process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + 10_000;
    while (pid > 0 && alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    if (pid > 0 && alive(pid)) process.kill(pid, 'SIGKILL');
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    fs.rmSync(home, { recursive: true, force: true });
  });
  await until('the pairing code is shown', () => /#pair=[A-Za-z0-9_-]+/.test(screen));
  const code = /#pair=([A-Za-z0-9_-]+)/.exec(screen)![1];
  return {
    home,
    env,
    url: `http://127.0.0.1:${port}`,
    code,
    screen: () => screen,
    type: (keys: string) => child.stdin!.write(keys),
  };
}

function claim(url: string, code: string, signal?: AbortSignal) {
  return fetch(`${url}/api/pair/claim`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code, name: 'Pixel' }),
    signal,
  });
}

it.skipIf(!hasScript)(
  'the phone stops waiting while "Approve this device?" is open: the terminal says so and what to run',
  async () => {
    const t = await startInTerminal();
    const phone = new AbortController();
    const claimed = claim(t.url, t.code, phone.signal).catch(() => 'gave up');
    await until('the claim is asked about', () => t.screen().includes('Approve this device? [y/N]'));
    expect(t.screen()).toContain('"Pixel" from 127.0.0.1 wants to pair.');
    phone.abort(); // the phone's request dies, as a phone's does when it leaves the page
    expect(await claimed).toBe('gave up');

    const said = 'The phone stopped waiting before the pairing was approved. Run `errand pair` again.';
    await until('the terminal says the phone gave up', () => t.screen().includes(said));
    // On a line of its own, after the question.
    expect(t.screen()).toMatch(/Approve this device\? \[y\/N\] \r*\n+errand start: The phone stopped waiting/);
    // Nothing was paired, and the code is spent: a new one comes from `errand pair`, as said.
    const devices = await runErrand(['devices', '--json'], t.env);
    expect(JSON.parse(devices.stdout)).toEqual([]);
    expect(((await (await claim(t.url, t.code)).json()) as { error: string }).error).toBe('code_invalid');
  },
  60_000,
);

it.skipIf(!hasScript)(
  'a newer `errand pair` replaces the first-run code: the terminal says to use the code that one shows',
  async () => {
    const t = await startInTerminal();
    const pair = spawn(process.execPath, [ERRAND_BIN, 'pair', '--json'], { env: t.env, stdio: 'ignore' });
    cleanups.push(async () => {
      const gone = new Promise((r) => pair.once('exit', r));
      if (pair.exitCode === null && pair.signalCode === null) pair.kill('SIGTERM');
      await gone;
    });
    await until('the terminal says the code was replaced', () =>
      t.screen().includes('errand start: This pairing code was replaced by a newer `errand pair`'),
    );
  },
  60_000,
);

it.skipIf(!hasScript)(
  'y typed at the question pairs the phone, and the terminal says so',
  async () => {
    const t = await startInTerminal();
    const claimed = claim(t.url, t.code);
    await until('the claim is asked about', () => t.screen().includes('Approve this device? [y/N]'));
    t.type('y\r');
    const res = await claimed;
    expect(res.status).toBe(200);
    await until('the terminal says it paired', () => t.screen().includes('Paired "Pixel".'));
    const devices = await runErrand(['devices', '--json'], t.env);
    expect((JSON.parse(devices.stdout) as Array<{ name: string }>).map((d) => d.name)).toEqual(['Pixel']);
  },
  60_000,
);

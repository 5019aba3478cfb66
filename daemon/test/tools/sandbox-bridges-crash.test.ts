// The sandbox runtime bridges the sandbox's network through socat processes that only a clean stop
// ends: a daemon killed with -9 leaves them running, re-parented to init. The sandbox notes them in
// the home while they run, and the next start of that home kills the ones still there and removes
// their sockets, never a process that is not the noted bridge.
//
// The process killed here runs the sandbox from source (through Vite's module runner), so this test
// needs no build; sandbox-bridges-daemon.test.ts does the same with the built daemon.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Sandbox } from '../../src/tools/sandbox.js';
import type { Logger } from '../../src/util/log.js';
import { PROJECT_ROOT } from '../../src/util/project-root.js';

const quietLog = { debug() {}, info() {}, warn() {}, error() {} } as unknown as Logger;

const onPath = (bin: string) => (process.env.PATH ?? '').split(':').some((d) => d && fs.existsSync(path.join(d, bin)));
const canSandbox = process.platform === 'linux' && ['bwrap', 'socat', 'rg'].every(onPath);

/** A live process's parent and start time (a zombie counts as gone). */
function proc(pid: number): { ppid: number; start: string } | undefined {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = fields.slice(fields.lastIndexOf(')') + 2).split(' ');
    return rest[0] === 'Z' ? undefined : { ppid: Number(rest[1]), start: rest[19] };
  } catch {
    return undefined;
  }
}
const argvOf = (pid: number) => fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  for (const end = Date.now() + ms; !cond(); await new Promise((r) => setTimeout(r, 20)))
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
}

let base: string;
const children: ChildProcess[] = [];
const leftPids: Array<{ pid: number; start: string; socket?: string }> = [];
beforeEach(() => {
  base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'errand-bridges-')));
});
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  // What a failed run left: the sandbox process's children (its bridges), never anything else.
  for (const { pid, start, socket } of leftPids.splice(0)) {
    if (proc(pid)?.start === start) process.kill(pid, 'SIGKILL');
    if (socket) fs.rmSync(socket, { force: true });
  }
  fs.rmSync(base, { recursive: true, force: true });
});

/** Start the sandbox of `home` in a child process running the source; resolves once it is up. */
async function sandboxProcess(home: string, workspace: string): Promise<ChildProcess> {
  const script = path.join(base, 'sandbox-child.mjs');
  const vite = path.join(PROJECT_ROOT, 'node_modules/vite/dist/node/index.js');
  fs.writeFileSync(
    script,
    `import { createServer } from ${JSON.stringify(vite)};
// A server kept open: the sandbox imports its runtime when it starts.
const server = await createServer({
  configFile: false, root: ${JSON.stringify(PROJECT_ROOT)}, cacheDir: process.cwd(), logLevel: 'silent',
  appType: 'custom', server: { middlewareMode: true, hmr: false, ws: false },
});
const m = await server.ssrLoadModule(${JSON.stringify(path.join(PROJECT_ROOT, 'daemon/src/tools/sandbox.ts'))});
const log = { debug() {}, info() {}, warn() {}, error() {} };
const sandbox = new m.Sandbox(log, process.argv[2], process.argv[3]);
sandbox.configure('auto', [process.argv[3]]);
const state = await sandbox.ensureStarted();
process.stdout.write(JSON.stringify(state) + '\\n');
setInterval(() => {}, 60_000);
`,
  );
  const child = spawn(process.execPath, [script, home, workspace], { cwd: base, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  await until(() => out.includes('\n') || child.exitCode !== null, 'the sandbox to start', 60_000);
  // Its children (the bridges) are killed after the test whatever happens.
  for (const name of fs.readdirSync('/proc'))
    if (/^\d+$/.test(name) && proc(Number(name))?.ppid === child.pid) {
      const socket = /^UNIX-LISTEN:([^,]+\.sock),/.exec(argvOf(Number(name))[1] ?? '')?.[1];
      leftPids.push({ pid: Number(name), start: proc(Number(name))!.start, socket });
    }
  expect(JSON.parse(out.split('\n')[0] || '{}'), err).toEqual({ enabled: true });
  return child;
}

it.skipIf(!canSandbox)(
  'bridges a daemon killed with -9 left running are killed at the next start, their sockets removed; nothing else is',
  async () => {
    const home = path.join(base, 'home');
    const workspace = path.join(home, 'workspace');
    fs.mkdirSync(workspace, { recursive: true, mode: 0o700 });
    const child = await sandboxProcess(home, workspace);
    const note = JSON.parse(fs.readFileSync(path.join(home, 'sandbox-bridges.json'), 'utf8')) as {
      bridges: Array<{ pid: number; start: string; socket: string }>;
    };
    expect(note.bridges.length).toBeGreaterThan(0);
    const bridges = note.bridges.map((b) => b.pid);
    for (const b of note.bridges) {
      expect(proc(b.pid)?.ppid).toBe(child.pid);
      expect(argvOf(b.pid)[1]).toBe(`UNIX-LISTEN:${b.socket},fork,reuseaddr`);
      expect(fs.lstatSync(b.socket).isSocket()).toBe(true);
    }

    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    // The crash left them running, no longer the dead process's children.
    for (const pid of bridges) expect(proc(pid)?.ppid).not.toBe(child.pid);
    expect(bridges.every((pid) => proc(pid))).toBe(true);

    // Decoys in the note: a process that is not a bridge, and a socat listening on another socket.
    const sleeper = spawn('sleep', ['600'], { stdio: 'ignore' });
    const otherSocket = path.join(base, 'claude-http-0123456789abcdef.sock');
    const otherSocat = spawn('socat', [`UNIX-LISTEN:${otherSocket},fork,reuseaddr`, 'TCP:localhost:9'], {
      stdio: 'ignore',
    });
    children.push(sleeper, otherSocat);
    await until(() => fs.existsSync(otherSocket), 'the other socat to listen');
    const noted = path.join(base, 'claude-http-fedcba9876543210.sock');
    const tampered = {
      ...note,
      bridges: [
        ...note.bridges,
        { pid: sleeper.pid!, start: proc(sleeper.pid!)!.start, socket: noted },
        { pid: otherSocat.pid!, start: proc(otherSocat.pid!)!.start, socket: noted },
      ],
    };
    fs.writeFileSync(path.join(home, 'sandbox-bridges.json'), JSON.stringify(tampered));

    // The next start of this home.
    expect(new Sandbox(quietLog, home, workspace).reapLeftBridges()).toBe(bridges.length);
    await until(() => bridges.every((pid) => !proc(pid)), 'the left bridges to be killed');
    for (const b of note.bridges) expect(fs.existsSync(b.socket)).toBe(false);
    expect(fs.existsSync(path.join(home, 'sandbox-bridges.json'))).toBe(false);
    expect(proc(sleeper.pid!)).toBeDefined();
    expect(proc(otherSocat.pid!)).toBeDefined();
    expect(fs.lstatSync(otherSocket).isSocket()).toBe(true);
    // Nothing noted any more: a second start finds nothing to do.
    expect(new Sandbox(quietLog, home, workspace).reapLeftBridges()).toBe(0);
  },
  120_000,
);

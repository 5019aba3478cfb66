// `errand start` killed with -9 after a sandboxed command leaves the sandbox's socat network bridges
// running (a clean stop ends them); the next `errand start` of that home kills them and removes their
// sockets, so they never pile up one set per crash. Runs the built daemon (dist/).
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { ensureBuilt } from '../agent/build.js';
import { freePort, killChildren, pairWithCli, spawnDaemon } from '../helpers/cli.js';
import { type ModelServer, reply, startModelServer, text, toolUse } from '../helpers/model-server.js';
import { WsTestClient } from '../helpers/ws-client.js';

const onPath = (bin: string) => (process.env.PATH ?? '').split(':').some((d) => d && fs.existsSync(path.join(d, bin)));
const canSandbox = process.platform === 'linux' && ['bwrap', 'socat', 'rg'].every(onPath);

beforeAll(() => {
  if (canSandbox) expect(fs.existsSync(ensureBuilt('dist/daemon/src/cli/main.js'))).toBe(true);
}, 120_000);

/** A live process's parent and start time (a zombie counts as gone). */
function proc(pid: number): { ppid: number; start: string } | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[0] === 'Z' ? undefined : { ppid: Number(rest[1]), start: rest[19] };
  } catch {
    return undefined;
  }
}
const parentOf = (pid: number) => proc(pid)?.ppid;

async function until(cond: () => boolean, what: string, ms = 20_000): Promise<void> {
  for (const end = Date.now() + ms; !cond(); await new Promise((r) => setTimeout(r, 50)))
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
}

let server: ModelServer;
let home: string;
const children: ChildProcess[] = [];
const clients: WsTestClient[] = [];
/** The first daemon's socat children, killed after the test if still there (a failed run leaves them). */
const bridges: Array<{ pid: number; start: string; socket?: string }> = [];
beforeEach(async () => {
  server = await startModelServer();
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-bridges-daemon-'));
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await killChildren(children);
  for (const { pid, start, socket } of bridges.splice(0)) {
    if (proc(pid)?.start === start) process.kill(pid, 'SIGKILL');
    if (socket) fs.rmSync(socket, { force: true });
  }
  await server.close();
  fs.rmSync(home, { recursive: true, force: true });
});

it.skipIf(!canSandbox)(
  'the bridges of a daemon killed with -9 are killed, and their sockets removed, by the next start',
  async () => {
    fs.writeFileSync(
      path.join(home, 'config.json'),
      JSON.stringify({
        shell: { sandbox: 'auto' },
        policy: { rules: [{ tool: 'shell', match: 'true', decision: 'allow' }] },
      }),
      { mode: 0o600 },
    );
    const env = {
      ERRAND_HOME: home,
      ANTHROPIC_BASE_URL: server.url,
      ANTHROPIC_API_KEY: 'sk-test-key',
      ERRAND_MODEL: 'claude-sonnet-4-6',
    };
    const port = await freePort();
    const first = await spawnDaemon(env, port);
    children.push(first.child);
    const ws = await WsTestClient.open(first.url, await pairWithCli(env, first.url, 'Bridges phone', children));
    clients.push(ws);
    server.push(reply(toolUse('shell', { argv: ['true'] })), reply(text('Done.')));
    const { task } = await ws.send<{ task: { id: string } }>({ type: 'thread.create', text: 'run true' });
    await ws.event('task.updated', (e) => e.task.id === task.id && e.task.state === 'done', 60_000);

    for (const name of fs.readdirSync('/proc')) {
      const pid = Number(name);
      if (!/^\d+$/.test(name) || parentOf(pid) !== first.child.pid) continue;
      const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (!argv[0].includes('socat')) continue;
      bridges.push({ pid, start: proc(pid)!.start, socket: /^UNIX-LISTEN:([^,]+\.sock),/.exec(argv[1] ?? '')?.[1] });
    }
    expect(bridges.length).toBeGreaterThan(0);

    const notePath = path.join(home, 'sandbox-bridges.json');
    const note = JSON.parse(fs.readFileSync(notePath, 'utf8')) as {
      bridges: Array<{ pid: number; socket: string }>;
      proxySockets: string[];
    };
    // The daemon's own proxy socket (the runtime's srt-mux-<pid>-<n>.sock) is noted too.
    expect(note.proxySockets.length).toBeGreaterThan(0);
    for (const s of note.proxySockets) {
      expect(path.basename(s)).toMatch(new RegExp(`^srt-mux-${first.child.pid}-`));
      expect(fs.lstatSync(s).isSocket()).toBe(true);
    }
    const pids = note.bridges.map((b) => b.pid);
    expect(pids.sort()).toEqual(bridges.map((b) => b.pid).sort());
    for (const b of note.bridges) {
      expect(parentOf(b.pid)).toBe(first.child.pid);
      expect(fs.lstatSync(b.socket).isSocket()).toBe(true);
    }

    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    // Still running after the crash, no longer the dead daemon's children.
    for (const pid of pids) expect([undefined, first.child.pid]).not.toContain(parentOf(pid));

    const second = await spawnDaemon(env, port);
    children.push(second.child);
    await until(() => pids.every((pid) => parentOf(pid) === undefined), 'the left bridges to be killed');
    for (const b of note.bridges) expect(fs.existsSync(b.socket)).toBe(false);
    for (const s of note.proxySockets) expect(fs.existsSync(s)).toBe(false);
    expect(fs.existsSync(notePath)).toBe(false);
    second.child.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
  },
  120_000,
);

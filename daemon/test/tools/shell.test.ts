// The shell tool: timeout, output cap keeping head and tail, scrubbed environment, cancel killing
// the whole process group, and the sandbox (writes only in roots, no network, home hidden) or,
// without it, an approval for every call and a status that says so.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ProcessNotes } from '../../src/tools/orphans.js';
import { scrubbedEnv } from '../../src/tools/shell.js';
import { type ToolsHarness, textOf, toolsHarness } from './helpers.js';

let h: ToolsHarness;
let stopApproving: (() => void) | undefined;
afterEach(async () => {
  stopApproving?.();
  await h?.close();
});

/** Approve every request, as a phone would, and count them. */
function autoApprove(): { count: () => number } {
  let n = 0;
  const timer = setInterval(() => {
    for (const e of h.events) {
      if (e.kind !== 'approval.requested' || (e as { done?: boolean }).done) continue;
      (e as { done?: boolean }).done = true;
      n++;
      void h
        .send('approval.decide', { approvalId: e.approval.id, hash: e.approval.hash, decision: 'approve' })
        .catch(() => undefined);
    }
  }, 10);
  stopApproving = () => clearInterval(timer);
  return { count: () => n };
}

/** Running (a zombie waiting for a reaper that this container's init may never be counts as dead). */
const alive = (pid: number) => {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
};

/** Live processes running `sleep <secs>`. */
const sleepers = (secs: string): number[] =>
  fs
    .readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8') === `sleep\u0000${secs}\u0000` && alive(Number(p));
      } catch {
        return false;
      }
    })
    .map(Number);

/** Wait (bounded) for a condition. */
async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  for (const end = Date.now() + ms; !cond(); await new Promise((r) => setTimeout(r, 20)))
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
}

describe('shell', () => {
  it('kills a command at the time limit', async () => {
    h = await toolsHarness({ config: { shell: { sandbox: 'off', timeoutSeconds: 1 } } });
    autoApprove();
    const started = Date.now();
    const out = await h.run('shell', { argv: ['sleep', '30'] });
    expect(Date.now() - started).toBeLessThan(6000);
    expect(out.isError).toBe(true);
    expect(textOf(out)).toContain('killed after the 1s time limit');
  });

  it('caps output, keeping the start and the end', async () => {
    h = await toolsHarness({ config: { shell: { sandbox: 'off', maxOutputBytes: 2048 } } });
    autoApprove();
    const out = await h.run('shell', { argv: ['seq', '1', '100000'] });
    const t = textOf(out);
    expect(t).toContain('capped at 2,048: start and end kept');
    expect(t).toMatch(/\n1\n2\n3\n/);
    expect(t).toContain('99999\n100000');
    expect(t).toMatch(/bytes of output omitted/);
    expect(t.length).toBeLessThan(3000);
  });

  it('passes a scrubbed environment: no API keys, tokens, passwords or credentials', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, {
      ANTHROPIC_API_KEY: 'sk-ant-xyz',
      GITHUB_TOKEN: 'ghp_x',
      DB_PASSWORD: 'pw',
      AWS_SECRET_ACCESS_KEY: 's',
      MY_CREDENTIALS: 'c',
      HARMLESS_VAR: 'h',
    });
    try {
      const env = scrubbedEnv();
      expect(Object.keys(env).sort()).toEqual(expect.arrayContaining(['LANG', 'PATH', 'TERM']));
      h = await toolsHarness();
      autoApprove();
      const out = textOf(await h.run('shell', { argv: ['env'] }));
      expect(out).toContain('PATH=');
      for (const bad of [
        'ANTHROPIC_API_KEY',
        'GITHUB_TOKEN',
        'DB_PASSWORD',
        'AWS_SECRET_ACCESS_KEY',
        'MY_CREDENTIALS',
        'HARMLESS_VAR',
        'sk-ant-xyz',
      ])
        expect(out).not.toContain(bad);
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    }
  });

  it('cancel kills the command and everything it started, at once', async () => {
    h = await toolsHarness();
    autoApprove();
    const ws = fs.realpathSync(h.ctx.paths.workspace);
    const ac = new AbortController();
    const running = h.run(
      'shell',
      { argv: ['bash', '-c', 'sleep 300 & echo $! > child.pid; sleep 300'] },
      h.task({ signal: ac.signal }),
    );
    const pidFile = path.join(ws, 'child.pid');
    const pidText = () => {
      try {
        return fs.readFileSync(pidFile, 'utf8');
      } catch {
        return '';
      }
    };
    for (let i = 0; i < 500 && !pidText().endsWith('\n'); i++) await new Promise((r) => setTimeout(r, 10));
    const child = Number(pidText());
    expect(alive(child)).toBe(true);
    const t0 = Date.now();
    ac.abort();
    const out = await running;
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(textOf(out)).toContain('killed: the task was cancelled');
    for (let i = 0; i < 100 && alive(child); i++) await new Promise((r) => setTimeout(r, 10));
    expect(alive(child)).toBe(false);
  });

  /** Wait (bounded) for a pid file the command writes, and return the pid. */
  async function pidFrom(file: string): Promise<number> {
    for (let i = 0; i < 500; i++) {
      const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
      if (text.endsWith('\n')) return Number(text);
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`no pid in ${file}`);
  }

  it('a process that leaves the group (setsid) and holds the pipes neither hangs the call nor outlives it', async () => {
    h = await toolsHarness({ config: { shell: { sandbox: 'off', timeoutSeconds: 30 } } });
    autoApprove();
    const ws = fs.realpathSync(h.ctx.paths.workspace);
    const started = Date.now();
    const out = await h.run('shell', {
      argv: ['sh', '-c', 'setsid sleep 300 & echo $! > escaped.pid; echo started'],
    });
    expect(Date.now() - started).toBeLessThan(5000); // far below the 30 s limit: the call ended when sh exited
    expect(out.isError).toBe(false);
    expect(textOf(out)).toContain('started');
    const escaped = await pidFrom(path.join(ws, 'escaped.pid'));
    for (let i = 0; i < 200 && alive(escaped); i++) await new Promise((r) => setTimeout(r, 10));
    expect(alive(escaped)).toBe(false);
  });

  it('at the time limit the call ends even while an escaped process holds its pipes, and that process is killed', async () => {
    h = await toolsHarness({ config: { shell: { sandbox: 'off', timeoutSeconds: 1 } } });
    autoApprove();
    const ws = fs.realpathSync(h.ctx.paths.workspace);
    const started = Date.now();
    const out = await h.run('shell', {
      argv: ['sh', '-c', 'setsid sh -c "sleep 300" & echo $! > escaped.pid; sleep 300'],
    });
    expect(Date.now() - started).toBeLessThan(6000);
    expect(textOf(out)).toContain('killed after the 1s time limit');
    const escaped = await pidFrom(path.join(ws, 'escaped.pid'));
    for (let i = 0; i < 200 && alive(escaped); i++) await new Promise((r) => setTimeout(r, 10));
    expect(alive(escaped)).toBe(false);
  });

  it('without the sandbox, processes that drop the marker, leave the group and double-fork do not outlive the call or its time limit', async () => {
    h = await toolsHarness({ config: { shell: { sandbox: 'off', timeoutSeconds: 2 } } });
    autoApprove();
    const unique = () => `${400 + Math.floor(Math.random() * 1e6) / 1e3}`; // a sleep no other process runs
    const [a, b, c] = [unique(), unique(), unique()];
    const detach = (secs: string) => `env -u ERRAND_CALL setsid sleep ${secs} </dev/null >/dev/null 2>&1`;
    try {
      // The command exits at once, leaving a setsid process and a double-forked one, both without the marker.
      const out = await h.run('shell', {
        argv: ['bash', '-c', `${detach(a)} & ( ${detach(b)} & ) ; echo started`],
      });
      expect(textOf(out)).toContain('started');
      await until(() => sleepers(a).length + sleepers(b).length === 0, 'the left-behind processes to be killed');
      // At the time limit, the same.
      const t0 = Date.now();
      const timed = await h.run('shell', { argv: ['bash', '-c', `( ${detach(c)} & ) ; sleep 300`] });
      expect(textOf(timed)).toContain('killed after the 2s time limit');
      expect(Date.now() - t0).toBeLessThan(8000);
      await until(() => sleepers(c).length === 0, 'the escaped process to be killed at the time limit');
    } finally {
      for (const pid of [...sleepers(a), ...sleepers(b), ...sleepers(c)]) process.kill(pid, 'SIGKILL');
    }
  });

  it('the audit log holds a call from the moment it starts; its outcome completes that entry', async () => {
    h = await toolsHarness();
    autoApprove();
    const ac = new AbortController();
    const running = h.run('shell', { argv: ['sleep', '300'] }, h.task({ taskId: 'task_audit', signal: ac.signal }));
    let entries: Array<{ tool: string; outcome: string }> = [];
    for (let i = 0; i < 500 && entries.length === 0; i++) {
      entries = await h.tools.audit.forTask('task_audit');
      if (!entries.length) await new Promise((r) => setTimeout(r, 10));
    }
    // Read while the command still runs (a daemon killed now would leave exactly this on record).
    expect(entries).toEqual([
      expect.objectContaining({ tool: 'shell', outcome: expect.stringMatching(/^started; never finished/) }),
    ]);
    ac.abort();
    await running;
    const after = await h.tools.audit.forTask('task_audit');
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ tool: 'shell', outcome: expect.stringMatching(/cancel/) });
  });

  it("known secrets (API key, push signing key) never come back in a tool's output", async () => {
    const apiKey = 'sk-ant-api03-TESTONLY-0123456789abcdef';
    h = await toolsHarness({ config: { shell: { sandbox: 'off' }, anthropic: { apiKey } } });
    autoApprove();
    const vapidPrivate = 'vapidPrivateKeyTESTONLY0123456789';
    fs.writeFileSync(
      h.ctx.paths.vapid,
      JSON.stringify({ publicKey: 'pub', privateKey: vapidPrivate, subject: 'mailto:x@example.com' }),
    );
    const out = await h.run('shell', { argv: ['echo', `key=${apiKey} vapid=${vapidPrivate}`] });
    expect(out.isError).toBe(false);
    expect(JSON.stringify(out)).not.toContain(apiKey);
    expect(JSON.stringify(out)).not.toContain(vapidPrivate);
    expect(textOf(out)).toContain('key=[redacted] vapid=[redacted]');
  });

  it('notes running commands, and the next start kills what a crashed daemon left running (never a recycled pid)', async () => {
    h = await toolsHarness();
    autoApprove();
    const file = path.join(h.home, 'running-commands.json');
    const ac = new AbortController();
    const running = h.run('shell', { argv: ['sleep', '300'] }, h.task({ signal: ac.signal }));
    for (let i = 0; i < 500 && !fs.existsSync(file); i++) await new Promise((r) => setTimeout(r, 10));
    const noted = JSON.parse(fs.readFileSync(file, 'utf8'));
    expect(noted).toEqual([
      {
        pid: expect.any(Number),
        start: expect.any(String),
        argv0: expect.stringMatching(/^\/.*\/sleep$/),
        marker: expect.stringMatching(/^[0-9a-f]{18}$/),
      },
    ]);
    ac.abort();
    await running;
    expect(fs.existsSync(file)).toBe(false);

    // A "crashed" daemon's leftovers: a detached process group noted in the file.
    const orphan = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
    const notes = new ProcessNotes(file);
    notes.add(orphan.pid!, 'sleep');
    const recycled = JSON.parse(fs.readFileSync(file, 'utf8'));
    recycled.push({ pid: process.pid, start: '1', argv0: 'not me' }); // same pid, different process start: left alone
    fs.writeFileSync(file, JSON.stringify(recycled));
    const killed = new ProcessNotes(file).reap();
    expect(killed.map((k) => k.pid)).toEqual([orphan.pid]);
    for (let i = 0; i < 100 && alive(orphan.pid!); i++) await new Promise((r) => setTimeout(r, 10));
    expect(alive(orphan.pid!)).toBe(false);
    expect(fs.existsSync(file)).toBe(false);
  });

  it('without a sandbox every call asks, even when a rule allows it, and the status says why', async () => {
    h = await toolsHarness({
      config: { shell: { sandbox: 'off' }, policy: { rules: [{ tool: 'shell', match: 'echo', decision: 'allow' }] } },
    });
    expect(h.ctx.status().sandbox).toEqual({
      enabled: false,
      reason: expect.stringMatching(/turned off in the configuration/),
    });
    expect(h.tools.promptContext().join('\n')).toMatch(/not sandboxed/);
    const approver = autoApprove();
    const out = await h.run('shell', { argv: ['echo', 'hi'] });
    expect(textOf(out)).toContain('hi');
    expect(approver.count()).toBe(1);
  });

  it('an idle daemon does not start the sandbox (only checks its programs); the first shell command does; a stop while it starts is quick', async () => {
    const t0 = Date.now();
    h = await toolsHarness({ config: { shell: { sandbox: 'auto' } }, noWait: true });
    expect(h.tools.sandbox.state).toEqual({ enabled: true }); // bubblewrap, socat and ripgrep are on PATH here
    expect(Date.now() - t0).toBeLessThan(3000);
    const starting = h.tools.sandbox.ensureStarted();
    expect(h.tools.sandbox.state).toEqual({ enabled: false, reason: 'starting' });
    const t1 = Date.now();
    await h.tools.stop();
    await starting;
    // Bounded, not instant: loading the sandbox library alone can take seconds on a loaded CI machine.
    expect(Date.now() - t1).toBeLessThan(15_000);
    expect(h.tools.sandbox.state.enabled).toBe(false);
    h.tools.stop = async () => undefined; // already stopped; close() calls it again
  });

  it('sandboxed: writes only inside the roots, no network, home folder hidden; allow rules run without asking', async () => {
    h = await toolsHarness({
      config: { shell: { sandbox: 'auto' }, policy: { rules: [{ tool: 'shell', match: 'bash', decision: 'allow' }] } },
    });
    const state = h.tools.sandbox.state;
    // This machine has bubblewrap, socat and ripgrep: the sandbox must be on. If it were not, the reason says why.
    expect(state, state.reason).toEqual({ enabled: true });
    expect(h.ctx.status().sandbox).toEqual({ enabled: true });
    const ws = fs.realpathSync(h.ctx.paths.workspace);
    const outsideFile = path.join(h.outside, 'escaped.txt');
    const script = [
      'echo inside > inside.txt && echo WROTE_INSIDE',
      `(echo out > ${outsideFile}) 2>/dev/null && echo WROTE_OUTSIDE || echo OUTSIDE_REFUSED`,
      `(cat ${h.ctx.paths.config}) 2>/dev/null && echo READ_CONFIG || echo CONFIG_HIDDEN`,
      `node -e "require('net').connect(80,'1.1.1.1').on('connect',()=>{console.log('NET_CONNECTED');process.exit(0)}).on('error',e=>{console.log('NET_BLOCKED');process.exit(0)})"`,
    ].join('; ');
    const out = await h.run('shell', { argv: ['bash', '-c', script] });
    const t = textOf(out);
    expect(h.events.filter((e) => e.kind === 'approval.requested')).toEqual([]);
    expect(t).toContain('WROTE_INSIDE');
    expect(t).toContain('OUTSIDE_REFUSED');
    expect(t).toContain('CONFIG_HIDDEN');
    expect(t).toContain('NET_BLOCKED');
    expect(t).not.toMatch(/^NET_CONNECTED$/m);
    expect(t).toMatch(/^NET_BLOCKED$/m);
    expect(fs.readFileSync(path.join(ws, 'inside.txt'), 'utf8')).toBe('inside\n');
    expect(fs.existsSync(outsideFile)).toBe(false);

    // Cancelling a sandboxed command kills it and what it started inside the sandbox.
    const ac = new AbortController();
    const marker = `${300 + Math.floor(Math.random() * 1e6) / 1e3}`; // a sleep no other process on this machine runs
    const running = h.run(
      'shell',
      { argv: ['bash', '-c', `sleep ${marker} & echo started > started.txt; wait`] },
      h.task({ signal: ac.signal }),
    );
    for (let i = 0; i < 500 && !fs.existsSync(path.join(ws, 'started.txt')); i++)
      await new Promise((r) => setTimeout(r, 10));
    const sleeping = () =>
      fs
        .readdirSync('/proc')
        .filter((p) => /^\d+$/.test(p))
        .filter((p) => {
          try {
            return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8') === `sleep\u0000${marker}\u0000` && alive(Number(p));
          } catch {
            return false;
          }
        });
    let before = sleeping();
    for (let i = 0; i < 250 && before.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
      before = sleeping();
    }
    expect(before.length).toBeGreaterThan(0);
    const t0 = Date.now();
    ac.abort();
    expect(textOf(await running)).toContain('killed: the task was cancelled');
    expect(Date.now() - t0).toBeLessThan(1500);
    for (let i = 0; i < 100 && before.some((p) => alive(Number(p))); i++) await new Promise((r) => setTimeout(r, 20));
    expect(before.filter((p) => alive(Number(p)))).toEqual([]);
  });
});

// Keep-awake and `errand expose` against a real daemon (in this process, temporary home): the
// status the CLI reads over the control socket shows keep-awake, and a new publicUrl is picked up
// by the running daemon's Host/Origin checks.
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Task } from '../../../shared/src/index.js';
import type { CliIO } from '../../src/cli/command.js';
import { makeExposeCommand } from '../../src/cli/commands/expose.js';
import { controlCall } from '../../src/control/client.js';
import type { InhibitorProcess } from '../../src/service/keep-awake.js';
import { startTestDaemon, type TestDaemon, tempHome } from '../helpers/daemon.js';

let td: TestDaemon;
const bin = tempHome('errand-bin-');
/** The sleep inhibitors the daemon's keep-awake started (stand-ins). */
const procs: FakeInhibitor[] = [];
beforeAll(async () => {
  fs.writeFileSync(path.join(bin, 'systemd-inhibit'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  td = await startTestDaemon({
    keepAwake: {
      platform: 'linux',
      env: { PATH: bin },
      spawn: () => {
        const p = new FakeInhibitor();
        procs.push(p);
        return p;
      },
    },
  });
});
afterAll(async () => {
  await td?.stop();
  fs.rmSync(bin, { recursive: true, force: true });
});

function task(id: string, state: Task['state']): Task {
  return {
    id,
    threadId: 'th',
    state,
    messageId: `m-${id}`,
    createdAt: Date.now(),
    turns: 0,
    usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 },
    costUsd: 0,
  };
}

class FakeInhibitor extends EventEmitter implements InhibitorProcess {
  kills = 0;
  kill() {
    this.kills++;
    setImmediate(() => this.emit('exit', null, 'SIGTERM'));
    return true;
  }
}

describe('with a running daemon', () => {
  it('keep-awake follows task events and shows in the daemon status', async () => {
    const ctx = td.daemon.ctx;
    const status = async () =>
      ((await controlCall(ctx.paths.socket, 'status', {}, { timeoutMs: 3000 })) as { keepAwake: boolean }).keepAwake;
    expect(await status()).toBe(false);
    await ctx.emit({ kind: 'task.updated', task: task('t1', 'running') });
    await ctx.emit({ kind: 'task.updated', task: task('t2', 'queued') });
    expect(procs).toHaveLength(1);
    expect(await status()).toBe(true);
    await ctx.emit({ kind: 'task.updated', task: task('t1', 'done') });
    expect(await status()).toBe(true);
    await ctx.emit({ kind: 'task.updated', task: task('t2', 'cancelled') });
    expect(procs[0].kills).toBe(1);
    expect(await status()).toBe(false);
  });

  it('expose url: the running daemon answers at the new address at once, and stops after expose off', async () => {
    const out: string[] = [];
    const io: CliIO = {
      out: (t) => out.push(t),
      err: (t) => out.push(t),
      env: { PATH: '/usr/bin:/bin' },
      interactive: false,
      confirm: async () => false,
    };
    const expose = makeExposeCommand({ followUpMs: 3000 });
    // fetch() will not send a Host header of our choosing; http.get does.
    const hostStatus = (host: string) =>
      new Promise<number>((resolve, reject) => {
        http
          .get(`${td.url}/healthz`, { headers: { host }, agent: false }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          })
          .on('error', reject);
      });
    expect(await hostStatus('errand.example.com')).toBe(403);

    expect(
      await expose.run({ home: td.home, positionals: ['url', 'https://errand.example.com'], values: {} }, io),
    ).toBe(0);
    expect(out.join('\n')).toContain('The running daemon has picked up the change.');
    expect(await hostStatus('errand.example.com')).toBe(200);

    expect(await expose.run({ home: td.home, positionals: ['off'], values: {} }, io)).toBe(0);
    expect(await hostStatus('errand.example.com')).toBe(403);
  });
});

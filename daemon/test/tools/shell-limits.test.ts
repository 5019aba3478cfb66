// A shell command runs under memory and process limits (shell.maxMemoryMB, shell.maxProcesses), with
// and without the sandbox: one that allocates past the memory limit fails and the result names the
// limit; a fork loop past the process limit is stopped (or refused by the kernel) and the result
// names that limit; nothing it started is left running and the next command runs normally.
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { type ToolsHarness, textOf, toolsHarness } from './helpers.js';

let h: ToolsHarness;
let stopApproving: (() => void) | undefined;
afterEach(async () => {
  stopApproving?.();
  await h?.close();
});

/** Approve every request, as a phone would. */
function autoApprove(): void {
  const timer = setInterval(() => {
    for (const e of h.events) {
      if (e.kind !== 'approval.requested' || (e as { done?: boolean }).done) continue;
      (e as { done?: boolean }).done = true;
      void h
        .send('approval.decide', { approvalId: e.approval.id, hash: e.approval.hash, decision: 'approve' })
        .catch(() => undefined);
    }
  }, 10);
  stopApproving = () => clearInterval(timer);
}

/** Live processes whose command line is exactly `argv` (a zombie counts as gone). */
const running = (argv: string[]): number[] =>
  fs
    .readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
        return (
          fs.readFileSync(`/proc/${p}/cmdline`, 'utf8') === `${argv.join('\0')}\0` &&
          stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
        );
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

describe.each([
  ['without the sandbox', 'off'],
  ['sandboxed', 'auto'],
] as const)('shell limits, %s', (_name, sandbox) => {
  it('a command that allocates past shell.maxMemoryMB fails, and the result names the limit', async () => {
    h = await toolsHarness({ config: { shell: { sandbox, maxMemoryMB: 256, timeoutSeconds: 30 } } });
    autoApprove();
    if (sandbox === 'auto') expect((await h.tools.sandbox.ensureStarted()).enabled).toBe(true);
    // 600 MB in 10 MB buffers: past 256 MB the allocation fails (node itself starts well under it).
    const script =
      "const a = []; for (let i = 0; i < 60; i++) a.push(Buffer.alloc(1e7, 1)); console.log('HELD', a.length * 10, 'MB')";
    const out = await h.run('shell', { argv: [process.execPath, '-e', script] });
    const t = textOf(out);
    expect(out.isError, t).toBe(true);
    expect(t).not.toContain('HELD 600 MB');
    expect(t).toMatch(/it may have run out of memory: each process may use up to 256 MB \(shell\.maxMemoryMB\)/);

    // Under the default limit the same command holds its 600 MB.
    h.setConfig((raw) => {
      delete raw.shell.maxMemoryMB;
    });
    const ok = await h.run('shell', { argv: [process.execPath, '-e', script] });
    expect(ok.isError, textOf(ok)).toBe(false);
    expect(textOf(ok)).toContain('HELD 600 MB');
  });

  it('a fork loop past shell.maxProcesses is stopped, nothing it started is left, and the next command runs', async () => {
    h = await toolsHarness({ config: { shell: { sandbox, maxProcesses: 20, timeoutSeconds: 30 } } });
    autoApprove();
    if (sandbox === 'auto') expect((await h.tools.sandbox.ensureStarted()).enabled).toBe(true);
    const secs = String(300 + Math.floor(Math.random() * 600)); // a sleep only this test runs
    // 60 children that sleep, then wait for them: the kernel refuses the fork past the limit
    // (RLIMIT_NPROC), or, for root (whom the kernel does not limit), the daemon stops the command.
    const script = `for (1..60) { my $p = fork; die "fork: $!\\n" unless defined $p; if (!$p) { exec "sleep", "${secs}" } } 1 while wait != -1;`;
    const started = performance.now();
    const out = await h.run('shell', { argv: ['perl', '-e', script] });
    const t = textOf(out);
    expect(performance.now() - started, t).toBeLessThan(20_000); // well before the 30 s time limit
    expect(out.isError, t).toBe(true);
    expect(t).toMatch(
      /stopped: it ran more than 20 processes and threads at once \(shell\.maxProcesses\)|it may have hit the limit of 20 processes and threads \(shell\.maxProcesses\)/,
    );
    await until(() => running(['sleep', secs]).length === 0, 'the sleeps it started to end');

    const next = await h.run('shell', { argv: ['echo', 'still fine'] });
    expect(next.isError, textOf(next)).toBe(false);
    expect(textOf(next)).toContain('still fine');
  });
});

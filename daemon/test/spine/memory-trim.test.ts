// The idle trim runs a short burst of young-generation collections once the daemon goes quiet with
// its young generation above its smallest, not while busy, and not again until the daemon has been
// busy again; in a real process with --expose-gc the young generation shrinks.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { expect, it, vi } from 'vitest';
import { trimYoungGenerationWhenIdle } from '../../src/util/memory-trim.js';
import { PROJECT_ROOT } from '../../src/util/project-root.js';

it('collects in a burst after a quiet check, stops when the young generation shrank, waits for work before the next', () => {
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
  const busy = vi.spyOn(performance, 'eventLoopUtilization');
  try {
    let utilization = 0.5;
    busy.mockImplementation(() => ({ idle: 0, active: 0, utilization }));
    let young = 4;
    const calls: unknown[] = [];
    const gc = (options?: unknown) => {
      calls.push(options);
      if (calls.length === 5) young = 1; // V8 judged the allocation rate low on the fifth
    };
    const trim = trimYoungGenerationWhenIdle({ gc, youngSize: () => young, smallestYoung: 1, checkEveryMs: 1000 });
    vi.advanceTimersByTime(3000); // busy: nothing
    expect(calls).toHaveLength(0);
    utilization = 0.001;
    vi.advanceTimersByTime(1000 + 24 * 10);
    expect(calls).toHaveLength(5);
    expect(calls.every((c) => (c as { type: string }).type === 'minor')).toBe(true);
    young = 4; // grew again, but the daemon has not been busy since: no burst
    vi.advanceTimersByTime(5000);
    expect(calls).toHaveLength(5);
    utilization = 0.5;
    vi.advanceTimersByTime(1000);
    utilization = 0.001;
    vi.advanceTimersByTime(1000 + 24 * 10); // V8 keeps the size this time: the burst ends after 24
    expect(calls).toHaveLength(5 + 24);
    utilization = 0.05; // the check that saw the burst's own collections does not count them as work
    vi.advanceTimersByTime(1000);
    utilization = 0.001;
    vi.advanceTimersByTime(5000);
    expect(calls).toHaveLength(5 + 24);
    trim.trimNow(); // after start-up's collection: a run at once
    utilization = 0.5; // and work beside it counts: once quiet, another run
    vi.advanceTimersByTime(1000);
    expect(calls).toHaveLength(5 + 24 + 24);
    utilization = 0.001;
    vi.advanceTimersByTime(1000 + 24 * 10);
    expect(calls).toHaveLength(5 + 24 + 24 + 24);
    trim.stop();
    utilization = 0.5;
    vi.advanceTimersByTime(1000);
    utilization = 0.001;
    vi.advanceTimersByTime(10_000);
    expect(calls).toHaveLength(5 + 24 + 24 + 24);
  } finally {
    busy.mockRestore();
    vi.useRealTimers();
  }
});

it('does nothing at its smallest or without an exposed gc', () => {
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
  try {
    const calls: unknown[] = [];
    const trim = trimYoungGenerationWhenIdle({ gc: (o) => calls.push(o), youngSize: () => 1, smallestYoung: 1 });
    vi.advanceTimersByTime(10_000);
    expect(calls).toHaveLength(0);
    trim.stop();
    const none = trimYoungGenerationWhenIdle({ gc: undefined });
    expect(() => (none.trimNow(), none.stop())).not.toThrow();
  } finally {
    vi.useRealTimers();
  }
});

it('gives the young generation back in a real process once allocation stops', () => {
  const module = path.join(PROJECT_ROOT, 'dist', 'daemon', 'src', 'util', 'memory-trim.js');
  const script = `
    const { trimYoungGenerationWhenIdle, youngGenerationSize } = await import(${JSON.stringify(module)});
    // A start-up's worth of surviving allocation grows the young generation to its maximum.
    const keep = [];
    for (let i = 0; i < 400000; i++) keep.push({ i, s: 'x' + i });
    const grown = youngGenerationSize();
    const trim = trimYoungGenerationWhenIdle({ checkEveryMs: 200 });
    const started = Date.now();
    while (youngGenerationSize() >= grown && Date.now() - started < 15000) await new Promise((r) => setTimeout(r, 100));
    trim.stop();
    process.stdout.write(JSON.stringify({ grown, now: youngGenerationSize(), kept: keep.length }));
  `;
  const out = JSON.parse(
    execFileSync(process.execPath, ['--expose-gc', '--max-semi-space-size=4', '--input-type=module', '-e', script], {
      encoding: 'utf8',
    }),
  );
  expect(out.now).toBeLessThan(out.grown);
}, 30_000);

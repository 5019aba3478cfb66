// The idle trim gives memory back once the daemon goes quiet after work: a compacting collection
// when the old generation grew by a quarter, and a short run of young collections while the young
// generation is above its smallest; not while busy, not for the trim's own collections, and not
// again until the daemon has been busy again. In a real process with --expose-gc both shrink.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { expect, it, vi } from 'vitest';
import { trimMemoryWhenIdle } from '../../src/util/memory-trim.js';
import { PROJECT_ROOT } from '../../src/util/project-root.js';

/** Runs `test` on fake timers and a faked event-loop load (busy, until the test sets it). */
function withFakeLoad(test: (load: { utilization: number }) => void): void {
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'] });
  const busy = vi.spyOn(performance, 'eventLoopUtilization');
  const load = { utilization: 0.5 };
  busy.mockImplementation(() => ({ idle: 0, active: 0, utilization: load.utilization }));
  try {
    test(load);
  } finally {
    busy.mockRestore();
    vi.useRealTimers();
  }
}

it('runs young collections after a quiet check, stops when the young generation shrank, waits for work before the next', () =>
  withFakeLoad((load) => {
    let young = 4;
    const calls: unknown[] = [];
    const gc = (options?: unknown) => {
      calls.push(options);
      if (calls.length === 5) young = 1; // V8 judged the allocation rate low on the fifth
    };
    const trim = trimMemoryWhenIdle({
      gc,
      youngSize: () => young,
      oldSize: () => 10,
      smallestYoung: 1,
      checkEveryMs: 1000,
      idleCheckEveryMs: 1000,
    });
    vi.advanceTimersByTime(3000); // busy: nothing
    expect(calls).toHaveLength(0);
    load.utilization = 0.001;
    vi.advanceTimersByTime(1000 + 24 * 10);
    expect(calls).toHaveLength(5);
    expect(calls.every((c) => (c as { type: string }).type === 'minor')).toBe(true);
    young = 4; // grew again, but the daemon has not been busy since: no run
    vi.advanceTimersByTime(5000);
    expect(calls).toHaveLength(5);
    load.utilization = 0.5;
    vi.advanceTimersByTime(1000);
    load.utilization = 0.001;
    vi.advanceTimersByTime(1000 + 24 * 10); // V8 keeps the size this time: the run ends after 24
    expect(calls).toHaveLength(5 + 24);
    load.utilization = 0.05; // the check that saw the run's own collections does not count them as work
    vi.advanceTimersByTime(1000);
    load.utilization = 0.001;
    vi.advanceTimersByTime(5000);
    expect(calls).toHaveLength(5 + 24);
    trim.stop();
    load.utilization = 0.5;
    vi.advanceTimersByTime(1000);
    load.utilization = 0.001;
    vi.advanceTimersByTime(10_000);
    expect(calls).toHaveLength(5 + 24);
  }));

it('compacts after start-up, then only when quiet after work with the old generation grown by a quarter', () =>
  withFakeLoad((load) => {
    let old = 100;
    let compactions = 0;
    const minors: unknown[] = [];
    const trim = trimMemoryWhenIdle({
      gc: (o) => minors.push(o),
      youngSize: () => 1,
      smallestYoung: 1,
      oldSize: () => old,
      compact: () => {
        compactions++;
        old = 60;
      },
      checkEveryMs: 1000,
      idleCheckEveryMs: 1000,
    });
    trim.afterStartup();
    expect(compactions).toBe(1);
    load.utilization = 0.5; // work that grows the old generation by a fifth: no compaction
    old = 72;
    vi.advanceTimersByTime(1000);
    load.utilization = 0.001;
    vi.advanceTimersByTime(2000);
    expect(compactions).toBe(1);
    load.utilization = 0.5; // more work: now it grew by more than a quarter
    old = 80;
    vi.advanceTimersByTime(1000);
    expect(compactions).toBe(1); // not while busy
    load.utilization = 0.001;
    vi.advanceTimersByTime(1000);
    expect(compactions).toBe(2);
    old = 90; // grew again, but no work since: nothing
    vi.advanceTimersByTime(5000);
    expect(compactions).toBe(2);
    expect(minors).toHaveLength(0); // the young generation was at its smallest throughout
    trim.stop();
  }));

it('looks every half second once work was seen, every two seconds while there is nothing to give back', () =>
  withFakeLoad((load) => {
    const looks = vi.mocked(performance.eventLoopUtilization);
    const trim = trimMemoryWhenIdle({ gc: () => undefined, youngSize: () => 1, smallestYoung: 1, oldSize: () => 1 });
    looks.mockClear();
    vi.advanceTimersByTime(2000); // start-up counts as work: a look every 500 ms
    expect(looks.mock.calls.length / 2).toBe(4); // two calls per look
    load.utilization = 0.001; // quiet, nothing to give back: from now on every 2 s
    vi.advanceTimersByTime(500);
    looks.mockClear();
    vi.advanceTimersByTime(10_000);
    expect(looks.mock.calls.length / 2).toBe(5);
    load.utilization = 0.5; // work seen: back to every 500 ms
    vi.advanceTimersByTime(2000);
    looks.mockClear();
    vi.advanceTimersByTime(2000);
    expect(looks.mock.calls.length / 2).toBe(4);
    trim.stop();
  }));

it('does nothing once stopped, start-up collection included', () => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
  try {
    let compactions = 0;
    const minors: unknown[] = [];
    const trim = trimMemoryWhenIdle({
      gc: (o) => minors.push(o),
      youngSize: () => 4,
      oldSize: () => 1,
      compact: () => compactions++,
    });
    trim.stop();
    trim.afterStartup();
    vi.advanceTimersByTime(10_000);
    expect({ compactions, minors: minors.length }).toEqual({ compactions: 0, minors: 0 });
  } finally {
    vi.useRealTimers();
  }
});

it('does nothing without an exposed gc', () => {
  const none = trimMemoryWhenIdle({ gc: undefined });
  expect(() => (none.afterStartup(), none.stop())).not.toThrow();
});

it('gives both generations back in a real process once allocation stops', () => {
  const module = path.join(PROJECT_ROOT, 'dist', 'daemon', 'src', 'util', 'memory-trim.js');
  const script = `
    const { trimMemoryWhenIdle, youngGenerationSize, oldGenerationSize } = await import(${JSON.stringify(module)});
    const trim = trimMemoryWhenIdle({ checkEveryMs: 200, idleCheckEveryMs: 200 });
    trim.afterStartup();
    await new Promise((r) => setTimeout(r, 400));
    const oldAtStart = oldGenerationSize();
    // Work: objects that survive long enough to be promoted, then dropped; the young generation grows.
    let keep = [];
    for (let i = 0; i < 600000; i++) keep.push({ i, s: 'x' + i });
    keep = [];
    const grown = { young: youngGenerationSize(), old: oldGenerationSize() };
    const started = Date.now();
    while ((youngGenerationSize() >= grown.young || oldGenerationSize() >= grown.old) && Date.now() - started < 15000)
      await new Promise((r) => setTimeout(r, 100));
    trim.stop();
    process.stdout.write(JSON.stringify({ oldAtStart, grown, now: { young: youngGenerationSize(), old: oldGenerationSize() } }));
  `;
  const out = JSON.parse(
    execFileSync(
      process.execPath,
      ['--expose-gc', '--max-semi-space-size=8', '--heap-growing-percent=100', '--input-type=module', '-e', script],
      { encoding: 'utf8' },
    ),
  );
  expect(out.grown.old).toBeGreaterThan(out.oldAtStart * 1.25);
  expect(out.now.young).toBeLessThan(out.grown.young);
  expect(out.now.old).toBeLessThan(out.grown.old);
}, 30_000);

// The idle trim asks V8 for young-generation collections (a few soon after start, then now and
// then) and stops when told; in a real process with --expose-gc the young generation shrinks.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { expect, it, vi } from 'vitest';
import { trimYoungGenerationWhenIdle } from '../../src/util/memory-trim.js';
import { PROJECT_ROOT } from '../../src/util/project-root.js';

it('asks for minor collections soon after start and then periodically, until stopped', () => {
  vi.useFakeTimers();
  try {
    const calls: unknown[] = [];
    const stop = trimYoungGenerationWhenIdle(10_000, (options) => calls.push(options));
    vi.advanceTimersByTime(6000); // one a second at first
    expect(calls).toHaveLength(6);
    expect(calls.every((c) => (c as { type: string }).type === 'minor')).toBe(true);
    vi.advanceTimersByTime(24_000); // then every 10 s
    expect(calls).toHaveLength(9);
    stop();
    vi.advanceTimersByTime(100_000);
    expect(calls).toHaveLength(9);
  } finally {
    vi.useRealTimers();
  }
});

it('does nothing without an exposed gc', () => {
  expect(() => trimYoungGenerationWhenIdle(10, undefined)()).not.toThrow();
});

it('gives the young generation back in a real process once allocation stops', () => {
  const module = path.join(PROJECT_ROOT, 'dist', 'daemon', 'src', 'util', 'memory-trim.js');
  const script = `
    import v8 from 'node:v8';
    const { trimYoungGenerationWhenIdle } = await import(${JSON.stringify(module)});
    const young = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
    // A start-up's worth of surviving allocation grows the young generation to its maximum.
    const keep = [];
    for (let i = 0; i < 400000; i++) keep.push({ i, s: 'x' + i });
    const grown = young();
    const stop = trimYoungGenerationWhenIdle(200);
    const started = Date.now();
    while (young() >= grown && Date.now() - started < 15000) await new Promise((r) => setTimeout(r, 100));
    stop();
    process.stdout.write(JSON.stringify({ grown, now: young(), kept: keep.length }));
  `;
  const out = JSON.parse(
    execFileSync(process.execPath, ['--expose-gc', '--max-semi-space-size=2', '--input-type=module', '-e', script], {
      encoding: 'utf8',
    }),
  );
  expect(out.now).toBeLessThan(out.grown);
}, 30_000);

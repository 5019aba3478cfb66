// What 1,000 schedules add to start-up (the journal load of their fold, then the engine's start:
// accounting for what was due, arming one timer), and the CPU they use while idle.
// Targets: ≤ 20 ms added to start-up; no measurable idle CPU added (< 1 ms per second over an
// open store without schedules).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { homePaths } from '../../daemon/src/config/paths.js';
import { ScheduleEngine } from '../../daemon/src/schedules/engine.js';
import { nextDue } from '../../daemon/src/schedules/timing.js';
import { openStore } from '../../daemon/src/store/index.js';
import { createLogger } from '../../daemon/src/util/log.js';
import type { Schedule } from '../../shared/src/index.js';
import { ms, percentile, report } from './stats.js';

const N = 1000;
const log = createLogger({ level: 'error' });

async function seed(home: string, n: number): Promise<void> {
  const store = await openStore(homePaths(home));
  const now = Date.now();
  const zones = ['Europe/Paris', 'America/New_York', 'Asia/Tokyo', 'UTC'];
  // One record, as after a compaction (records a snapshot covers are kept for the event replay
  // window, whatever their ops; that cost belongs to the journal, not to schedules).
  await store.journal.transaction(async () => {
    for (let i = 0; i < n; i++) {
      const s: Schedule = {
        id: `sch_bench_${i}`,
        title: `Schedule ${i}`,
        text: `Do thing ${i}`,
        when:
          i % 3 === 0
            ? { kind: 'daily', time: `${String(i % 24).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}` }
            : i % 3 === 1
              ? { kind: 'weekdays', time: '08:00' }
              : { kind: 'every', hours: 1 + (i % 12) },
        timeZone: zones[i % zones.length],
        catchUp: 'run',
        state: 'active',
        createdAt: now,
        updatedAt: now,
        accountedUntil: now,
        history: [],
        spentUsd: 0,
      };
      s.nextRunAt = nextDue(s);
      await store.schedules.put(s);
    }
  });
  await store.journal.settle();
  await store.close();
}

/** Open the store and start the engine; returns [store open ms, engine start ms]. */
async function start(home: string): Promise<{ open: number; engine: number; stop: () => Promise<void> }> {
  const t0 = performance.now();
  const store = await openStore(homePaths(home));
  const t1 = performance.now();
  const engine = new ScheduleEngine({
    store: store.schedules,
    journal: store.journal,
    clock: {
      now: () => Date.now(),
      setTimeout: (fn, ms) => setTimeout(fn, ms),
      clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
    },
    runs: { start: async () => ({ taskId: 'none', threadId: 'none' }), task: () => undefined },
    emit: async () => 0,
    log,
  });
  await engine.start();
  const t2 = performance.now();
  return {
    open: t1 - t0,
    engine: t2 - t1,
    stop: async () => {
      engine.stop();
      await store.close();
    },
  };
}

/** Process CPU per second of wall time over 3 s of idling (an open store with or without schedules). */
async function idleCpu(): Promise<number> {
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  await new Promise((r) => setTimeout(r, 3000));
  const cpu = process.cpuUsage(c0);
  return (cpu.user + cpu.system) / 1000 / ((performance.now() - w0) / 1000);
}

export async function benchSchedulesStartup(): Promise<boolean> {
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-bench-sched0-'));
  const full = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-bench-sched-'));
  try {
    await seed(empty, 0);
    await seed(full, N);
    const added: number[] = [];
    let idleBase = 0;
    const engineOnly: number[] = [];
    for (let i = 0; i < 7; i++) {
      const a = await start(empty);
      if (i === 6) idleBase = await idleCpu();
      await a.stop();
      const b = await start(full);
      added.push(b.open + b.engine - (a.open + a.engine));
      engineOnly.push(b.engine);
      if (i < 6) await b.stop();
      else {
        // Idle: one timer for the next due occurrence (at most a minute away); nothing else runs.
        const perSecond = Math.max(0, (await idleCpu()) - idleBase);
        await b.stop();
        const med = percentile(added, 50);
        console.log(
          `${N} schedules: start-up +${ms(med)} (engine start ${ms(percentile(engineOnly, 50))}); idle CPU added ${perSecond.toFixed(3)} ms/s (the same process with no schedules: ${idleBase.toFixed(3)} ms/s)`,
        );
        const okStart = report(`start-up added by ${N} schedules`, ms(med), med <= 20, '≤ 20 ms');
        const okIdle = report('idle CPU added by schedules', `${perSecond.toFixed(3)} ms/s`, perSecond < 1, '< 1 ms/s');
        return okStart && okIdle;
      }
    }
    return false;
  } finally {
    fs.rmSync(empty, { recursive: true, force: true });
    fs.rmSync(full, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = (await benchSchedulesStartup()) ? 0 : 1;

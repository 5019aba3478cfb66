// One durable write (a message appended to a thread) with 1,000 threads x 100 messages stored vs
// with 10 threads. Targets: p95 within 2x of the small store, and under 5 ms.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { homePaths } from '../../daemon/src/config/paths.js';
import { openStore } from '../../daemon/src/store/index.js';
import { ms, percentile, report } from './stats.js';

const WRITES = 300;

async function measure(threads: number, messages: number): Promise<number[]> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-bench-store-'));
  try {
    let store = await openStore(homePaths(home));
    const ids: string[] = [];
    for (let t = 0; t < threads; t++) {
      const doc = await store.threads.create(`Thread ${t}`, (d) => {
        for (let m = 0; m < messages; m++) {
          d.items.push({
            kind: m % 2 ? 'assistant' : 'user',
            id: `i${m}`,
            taskId: 'task',
            text: `Message ${m}: ${'lorem ipsum dolor sit amet '.repeat(8)}`,
            createdAt: Date.now(),
          });
        }
      });
      ids.push(doc.meta.id);
      if (t % 100 === 99) process.stdout.write(`  stored ${t + 1}/${threads} threads\r`);
    }
    await store.close();
    store = await openStore(homePaths(home)); // a cold start with everything on disk
    const samples: number[] = [];
    for (let i = 0; i < WRITES; i++) {
      const id = ids[(i * 7919) % ids.length];
      const t0 = performance.now();
      await store.threads.update(id, (d) => {
        d.items.push({ kind: 'user', id: `new${i}`, taskId: 'task', text: 'one more message', createdAt: Date.now() });
        d.items.shift(); // keep each thread at `messages` items so both runs write the same size
      });
      samples.push(performance.now() - t0);
    }
    await store.close();
    return samples;
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
}

/** The disk's own floor: one write + fsync of a file the size of a thread, no store code at all. */
async function rawFsync(bytes: number): Promise<number[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-bench-raw-'));
  const data = Buffer.alloc(bytes, 'x');
  const samples: number[] = [];
  try {
    for (let i = 0; i < WRITES; i++) {
      const t0 = performance.now();
      const h = await fs.promises.open(path.join(dir, 'f'), 'w');
      await h.writeFile(data);
      await h.sync();
      await h.close();
      samples.push(performance.now() - t0);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return samples;
}

export async function benchStoreWrite(): Promise<boolean> {
  const raw = await rawFsync(30_000);
  console.log(`disk floor: write + fsync of 30 KB, p95 ${ms(percentile(raw, 95))} (median ${ms(percentile(raw, 50))})`);
  const small = await measure(10, 100);
  const large = await measure(1000, 100);
  const ps = percentile(small, 95);
  const pl = percentile(large, 95);
  console.log(
    `store write p95: 10 threads ${ms(ps)}, 1,000 threads x 100 messages ${ms(pl)} (median ${ms(percentile(small, 50))} vs ${ms(percentile(large, 50))})`,
  );
  const a = report('write p95, large vs small store', `${(pl / ps).toFixed(2)}x`, pl <= ps * 2, '<= 2x');
  const b = report('write p95, large store', ms(pl), pl < 5, '< 5 ms');
  return a && b;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = (await benchStoreWrite()) ? 0 : 1;

// From "task done" to the push request leaving the daemon, on loopback: a real daemon with the push
// module, a subscribed device, and a local https push service (self-signed cert for
// fcm.googleapis.com; the daemon's real https transport connects to it). Each sample emits a
// task.updated (done) event and stops the clock when the encrypted request has fully arrived.
// Baseline in the same run: a bare webpush.generateRequestDetails + https request to the same
// service. Target: p95 under 50 ms.
// Usage: node dist/scripts/bench/push-latency.js   — exits 1 when over budget.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import webpush from 'web-push';
import { startDaemon } from '../../daemon/src/daemon.js';
import { decryptPush, FakePushService, makeSubscriber } from '../../daemon/test/push/push-service.js';
import { ms, percentile, report } from './stats.js';

const N = 300;
const WARMUP = 30;
const TARGET_P95_MS = 50;

async function main(): Promise<boolean> {
  const svc = await FakePushService.start();
  const sub = makeSubscriber();
  const arrival = (count: number) => svc.waitFor(count, 10_000).then(() => svc.received[count - 1].at);

  // Baseline: the least any sender must do — build the request, send it over a warm https connection.
  const keys = webpush.generateVAPIDKeys();
  const bare = svc.transport();
  const baseline: number[] = [];
  for (let i = 0; i < N + WARMUP; i++) {
    const t0 = performance.now();
    const details = webpush.generateRequestDetails(
      sub.subscription,
      JSON.stringify({
        type: 'task.done',
        title: 'Bench',
        body: `run ${i}`,
        threadId: 'thr_x',
        url: '/#thread=thr_x',
        tag: 'thread-thr_x',
      }),
      {
        vapidDetails: { subject: 'mailto:bench@example.org', publicKey: keys.publicKey, privateKey: keys.privateKey },
        TTL: 86400,
        urgency: 'normal',
        contentEncoding: 'aes128gcm',
      },
    );
    await bare({ endpoint: details.endpoint, method: 'POST', headers: details.headers, body: details.body });
    const at = await arrival(svc.received.length);
    if (i >= WARMUP) baseline.push(at - t0);
  }
  bare.close();

  // Through the daemon.
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-bench-push-'));
  // Full previews, so the bench can check each push carries its own result line (private is the default).
  fs.writeFileSync(path.join(home, 'config.json'), JSON.stringify({ push: { previews: 'full' } }), { mode: 0o600 });
  const daemon = await startDaemon({ home, env: {}, overrides: { port: 0 }, push: { transport: svc.transport() } });
  const samples: number[] = [];
  const persisted: number[] = [];
  try {
    const ctx = daemon.ctx;
    const { device } = await ctx.store.devices.add('bench phone', undefined);
    await ctx.commands.dispatch(
      { type: 'push.subscribe', id: 'bench-sub', subscription: sub.subscription },
      { device, address: undefined, connectionId: 'bench' },
    );
    const thread = await ctx.store.threads.create('Bench thread', () => undefined);
    let seenAt = 0;
    const unsubscribe = ctx.store.events.subscribe((e) => {
      if (e.event.kind === 'task.updated') seenAt = performance.now();
    });
    for (let i = 0; i < N + WARMUP; i++) {
      const expected = svc.received.length + 1;
      const t0 = performance.now();
      void ctx.emit({
        kind: 'task.updated',
        task: {
          id: `tsk_bench${i}`,
          threadId: thread.meta.id,
          state: 'done',
          messageId: 'msg',
          createdAt: Date.now(),
          turns: 1,
          costUsd: 0,
          usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 },
          resultSummary: `Report ${i} written`,
        },
      });
      const at = await arrival(expected);
      if (i >= WARMUP) {
        samples.push(at - t0);
        persisted.push(seenAt - t0);
      }
      await new Promise((r) => setTimeout(r, 2)); // let the outcome be recorded before the next one
    }
    unsubscribe();
    const last = decryptPush(svc.received.at(-1)!, sub);
    if (last.body !== `Report ${N + WARMUP - 1} written`) throw new Error(`unexpected payload ${JSON.stringify(last)}`);
  } finally {
    await daemon.stop();
    await svc.close();
    fs.rmSync(home, { recursive: true, force: true });
  }

  const p = (xs: number[], q: number) => ms(percentile(xs, q));
  console.log(`push latency, ${N} samples each (after ${WARMUP} warm-up):`);
  console.log(
    `  daemon   task done → request at push service: median ${p(samples, 50)}  p95 ${p(samples, 95)}  max ${p(samples, 100)}`,
  );
  console.log(
    `           of which event persisted (fsync) → push module sees it: median ${p(persisted, 50)}  p95 ${p(persisted, 95)}`,
  );
  const pushPart = samples.map((x, i) => x - persisted[i]);
  console.log(
    `           push module's own part (build, encrypt, sign, send):      median ${p(pushPart, 50)}  p95 ${p(pushPart, 95)}`,
  );
  console.log(
    `  baseline bare generateRequestDetails + https request:      median ${p(baseline, 50)}  p95 ${p(baseline, 95)}  max ${p(baseline, 100)}`,
  );
  console.log(`  daemon overhead over baseline (median): ${ms(percentile(samples, 50) - percentile(baseline, 50))}`);
  return report(
    'task done → push request leaves (p95)',
    p(samples, 95),
    percentile(samples, 95) < TARGET_P95_MS,
    `< ${TARGET_P95_MS} ms`,
  );
}

main().then(
  (ok) => {
    process.exitCode = ok ? 0 : 1;
  },
  (err) => {
    console.error(err);
    process.exitCode = 1;
  },
);

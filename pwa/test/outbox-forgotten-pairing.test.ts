// What was queued for one pairing (a message, an answer, an approval decision written offline) is
// dropped when that pairing is forgotten (Unpair, or the computer revoked this device): pairing
// again without a reload must never send it to the next computer.
import { expect, it, vi } from 'vitest';
import {
  enqueue,
  enqueueAnswer,
  enqueueDecision,
  outboxStore,
  responsesStore,
  startOutbox,
} from '../src/conn/outbox.js';
import { authStore, forgetPairing } from '../src/state/app.js';

const stores = vi.hoisted(() => ({ kv: new Map<string, unknown>(), outbox: new Map<string, unknown>() }));
vi.mock('../src/lib/idb.js', () => {
  const copy = <T>(v: T): T => (v === undefined ? v : structuredClone(v));
  const of = (s: string) => stores[s as 'kv' | 'outbox'];
  return {
    idb: {
      get: async (s: string, k: string) => copy(of(s).get(k)),
      put: async (s: string, k: string, v: unknown) => void of(s).set(k, copy(v)),
      del: async (s: string, k: string) => void of(s).delete(k),
      all: async (s: string) => [...of(s).values()].map(copy),
      clear: async (s: string) => void of(s).clear(),
      batch: async (s: string, puts: Array<[string, unknown]>, dels: string[] = []) => {
        for (const k of dels) of(s).delete(k);
        for (const [k, v] of puts) of(s).set(k, copy(v));
      },
    },
  };
});

it('forgetting the pairing drops everything queued for it, in memory and on disk', async () => {
  const stop = startOutbox();
  authStore.set({ token: 't', deviceId: 'dev_a', hostName: 'desk', deviceName: 'phone', pairedAt: 1 });
  // Not connected: everything waits.
  await enqueue({ threadId: 'thr_1', text: 'Also file the March ones', files: [] });
  await enqueueAnswer({ threadId: 'thr_1', taskId: 'thr_1.task_1', questionId: 'q_1', text: 'Q3' });
  await enqueueDecision({
    threadId: 'thr_1',
    approvalId: 'apr_1',
    hash: 'h',
    decision: 'approve',
    summary: 'Run make',
  });
  expect(outboxStore.get()).toHaveLength(1);
  expect(responsesStore.get()).toHaveLength(2);
  expect(stores.outbox.size).toBe(3);

  await forgetPairing();
  expect(outboxStore.get()).toEqual([]);
  expect(responsesStore.get()).toEqual([]);
  expect(stores.outbox.size).toBe(0);
  stop();
});

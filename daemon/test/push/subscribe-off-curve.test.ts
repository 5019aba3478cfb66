// A p256dh of the right length and prefix that is not a point on P-256 cannot have a push encrypted
// to it: accepted, the device would count as subscribed ("current") while every push failed.
// push.subscribe refuses it with a clear bad_request, and the device holds no subscription.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { checkKeys } from '../../src/push/endpoint.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { makeSubscriber } from './push-service.js';

let td: TestDaemon;
beforeAll(async () => {
  td = await startTestDaemon();
});
afterAll(async () => {
  await td.stop();
});

/** 65 bytes that start as an uncompressed point should, and are no point on the curve. */
const offCurve = Buffer.alloc(65, 0x04).toString('base64url');

it('checkKeys refuses a key that is not a point on P-256, and takes a real one', () => {
  const { keys } = makeSubscriber().subscription;
  expect(checkKeys(keys)).toBeUndefined();
  expect(checkKeys({ ...keys, p256dh: offCurve })).toMatch(/not a point on the P-256 curve/);
  const flipped = Buffer.from(keys.p256dh, 'base64url');
  flipped[64] ^= 1; // y no longer matches x
  expect(checkKeys({ ...keys, p256dh: flipped.toString('base64url') })).toMatch(/not a point on the P-256 curve/);
});

it('push.subscribe refuses it with bad_request, and the device stays unsubscribed', async () => {
  const phone = await td.connect();
  const { subscription } = makeSubscriber();
  const err = await phone
    .send({
      type: 'push.subscribe',
      subscription: { ...subscription, keys: { ...subscription.keys, p256dh: offCurve } },
    })
    .then(
      () => undefined,
      (e: Error & { code: string }) => e,
    );
  expect(err?.code).toBe('bad_request');
  expect(err?.message).toMatch(/p256dh is not a point on the P-256 curve.*Turn notifications off and on again/);
  expect(await phone.send({ type: 'push.key' })).toMatchObject({ subscription: 'none' });
  // The same browser with its real key is taken.
  expect(await phone.send({ type: 'push.subscribe', subscription })).toMatchObject({ subscribed: true });
  expect(await phone.send({ type: 'push.key' })).toMatchObject({ subscription: 'current' });
});

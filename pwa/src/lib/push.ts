// The phone side of Web Push: subscribe after a user gesture, hand the subscription to the host,
// and explain clearly when the platform or the user's permission stands in the way.
import { request } from '../conn/connection.js';
import { isIOS, isStandalone } from './platform.js';

export type PushSupport =
  | { ok: true }
  | { ok: false; why: 'ios-not-installed' | 'unsupported' | 'insecure' | 'denied' };

export function pushSupport(): PushSupport {
  if (!isSecureContext) return { ok: false, why: 'insecure' };
  if (isIOS() && !isStandalone()) return { ok: false, why: 'ios-not-installed' };
  if (!('serviceWorker' in navigator) || !('PushManager' in window) || !('Notification' in window))
    return { ok: false, why: 'unsupported' };
  if (Notification.permission === 'denied') return { ok: false, why: 'denied' };
  return { ok: true };
}

export async function currentSubscription(): Promise<PushSubscription | null> {
  if (!('serviceWorker' in navigator) || !('PushManager' in window)) return null;
  const reg = await navigator.serviceWorker.getRegistration('/');
  return (await reg?.pushManager.getSubscription()) ?? null;
}

function keyBytes(base64url: string): Uint8Array<ArrayBuffer> {
  const b64 = base64url.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (base64url.length % 4)) % 4);
  const bin = atob(b64);
  const out = new Uint8Array(new ArrayBuffer(bin.length));
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(message)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}

const BLOCKED = 'Notifications are blocked for this app. Allow them in your browser or phone settings, then try again.';

/**
 * Why turning notifications on or off failed, in words for the person: the browser's own refusals
 * (a DOMException such as "Registration failed - push service error") are not.
 */
export function pushFailureWords(e: unknown, turningOn: boolean): string {
  if (!(e instanceof DOMException)) return (e as Error).message;
  if (e.name === 'NotAllowedError') return BLOCKED;
  return turningOn
    ? "The browser's push service refused to turn notifications on. Check the phone's connection and try again."
    : 'The browser could not turn notifications off here. Try again.';
}

/** Turn notifications on. Must be called from a click. */
export async function enablePush(): Promise<void> {
  const permission = await Notification.requestPermission();
  if (permission !== 'granted') {
    throw new Error(permission === 'denied' ? BLOCKED : 'Notifications were not allowed.');
  }
  const reg = await withTimeout(
    navigator.serviceWorker.ready,
    10_000,
    'The app is still installing its service worker; try again in a moment.',
  );
  const { publicKey } = await request({ type: 'push.key' });
  await subscribeWith(reg, publicKey, await reg.pushManager.getSubscription());
}

/** Subscribe (again, when the key changed) and hand the subscription to the host. */
async function subscribeWith(
  reg: ServiceWorkerRegistration,
  publicKey: string,
  existing: PushSubscription | null,
): Promise<void> {
  let sub = existing;
  if (sub && !sameKey(sub, publicKey)) {
    await sub.unsubscribe();
    sub = null;
  }
  sub ??= await withTimeout(
    reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(publicKey) }),
    20_000,
    "The browser's push service did not answer. Check the phone's connection and try again.",
  );
  const json = sub.toJSON();
  if (!json.endpoint || !json.keys?.p256dh || !json.keys.auth)
    throw new Error('The browser gave an incomplete push subscription.');
  await request({
    type: 'push.subscribe',
    subscription: {
      endpoint: json.endpoint,
      expirationTime: json.expirationTime ?? null,
      keys: { p256dh: json.keys.p256dh, auth: json.keys.auth },
    },
  });
}

/**
 * Run each time the app connects: when notifications are on in this browser but the computer's push keys
 * changed, or the computer no longer holds this subscription (it expired, or was made with old keys),
 * subscribe again. Without permission, or with notifications off on both sides, nothing happens.
 */
export async function renewPushIfNeeded(): Promise<'unchanged' | 'renewed'> {
  if (!pushSupport().ok || Notification.permission !== 'granted') return 'unchanged';
  const reg = await navigator.serviceWorker.getRegistration('/');
  if (!reg) return 'unchanged';
  const sub = await reg.pushManager.getSubscription();
  const { publicKey, subscription } = await request({ type: 'push.key', ...(sub ? { endpoint: sub.endpoint } : {}) });
  const keyChanged = !!sub && !sameKey(sub, publicKey);
  // Here but not current there (made with old keys, expired there, or the browser moved to a new
  // endpoint), or on at the computer but gone here (the browser or push service dropped it silently).
  const wanted = sub ? keyChanged || subscription !== 'current' : subscription !== undefined && subscription !== 'none';
  if (!wanted) return 'unchanged';
  await subscribeWith(reg, publicKey, sub);
  return 'renewed';
}

function sameKey(sub: PushSubscription, publicKey: string): boolean {
  const k = sub.options.applicationServerKey;
  if (!k) return false;
  const a = new Uint8Array(k);
  const b = keyBytes(publicKey);
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export async function disablePush(): Promise<void> {
  await request({ type: 'push.unsubscribe' });
  const sub = await currentSubscription();
  await sub?.unsubscribe();
}

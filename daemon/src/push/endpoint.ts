// Which push subscriptions the daemon accepts. A subscription's endpoint is a URL the daemon will
// POST to, chosen by an authenticated but possibly hostile client: without a strict allowlist it
// is a server-side request forgery into the user's network (Syncthing CVE-2022-46165). Only https
// on port 443 at the browsers' real push services passes; anything else is refused with a reason.
import crypto from 'node:crypto';
import net from 'node:net';

/** Exact hosts, and suffixes that need at least one label in front (matched on a dot boundary). */
const EXACT_HOSTS = ['fcm.googleapis.com'];
const HOST_SUFFIXES = ['.push.apple.com', '.push.services.mozilla.com', '.notify.windows.com'];
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export const ALLOWED_PUSH_SERVICES =
  'fcm.googleapis.com, *.push.apple.com, *.push.services.mozilla.com, *.notify.windows.com';

export type EndpointCheck = { ok: true; url: URL } | { ok: false; reason: string };

export function checkEndpoint(endpoint: string): EndpointCheck {
  const refuse = (why: string): EndpointCheck => ({
    ok: false,
    reason: `Push endpoint refused: ${why}. Errand only sends to https://…:443 at ${ALLOWED_PUSH_SERVICES}.`,
  });
  if (typeof endpoint !== 'string' || endpoint.length === 0) return refuse('it is empty');
  if (endpoint.length > 2048) return refuse('it is longer than 2048 characters');
  // Control characters or spaces would be silently stripped or encoded by the URL parser.
  if (/[\u0000-\u0020\u007f-\u009f\\]/.test(endpoint))
    return refuse('it contains spaces, control characters or backslashes');
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return refuse('it is not a valid URL');
  }
  if (url.protocol !== 'https:') return refuse(`it uses ${url.protocol.replace(/:$/, '')}, not https`);
  if (url.username !== '' || url.password !== '' || /^https:\/\/[^/?#]*@/i.test(endpoint))
    return refuse('it carries a user name or password');
  // The WHATWG parser drops an explicit default port (":443" → ""), so "" means 443.
  if (url.port !== '') return refuse(`it uses port ${url.port}, not 443`);
  const host = url.hostname;
  if (host.startsWith('[') || net.isIP(host) !== 0) return refuse('its host is an IP address');
  const labels = host.split('.');
  if (!labels.every((l) => LABEL.test(l))) return refuse(`its host "${host.slice(0, 80)}" is not a plain DNS name`);
  const allowed =
    EXACT_HOSTS.includes(host) || HOST_SUFFIXES.some((suffix) => host.endsWith(suffix) && host.length > suffix.length);
  if (!allowed) return refuse(`"${host.slice(0, 80)}" is not a known push service`);
  return { ok: true, url };
}

export interface SubscriptionKeys {
  p256dh: string;
  auth: string;
}

/** Whether 65 bytes (0x04, x, y) are a point on P-256: every push is encrypted to it, so one that is not would fail each time. */
function onCurve(point: Buffer): boolean {
  try {
    crypto.createPublicKey({
      key: {
        kty: 'EC',
        crv: 'P-256',
        x: point.subarray(1, 33).toString('base64url'),
        y: point.subarray(33, 65).toString('base64url'),
      },
      format: 'jwk',
    });
    return true;
  } catch {
    return false;
  }
}

/** The browser's ECDH public key (uncompressed P-256 point) and auth secret, base64url. */
export function checkKeys(keys: SubscriptionKeys): string | undefined {
  const b64url = /^[A-Za-z0-9_-]+={0,2}$/;
  if (!b64url.test(keys.p256dh) || !b64url.test(keys.auth)) return 'Push subscription keys must be base64url.';
  const p256dh = Buffer.from(keys.p256dh, 'base64url');
  if (p256dh.length !== 65 || p256dh[0] !== 0x04)
    return 'Push subscription key p256dh must be an uncompressed P-256 public key (65 bytes).';
  if (!onCurve(p256dh))
    return 'Push subscription key p256dh is not a point on the P-256 curve, so no push could be encrypted for it. Turn notifications off and on again on this device.';
  if (Buffer.from(keys.auth, 'base64url').length !== 16) return 'Push subscription key auth must be 16 bytes.';
  return undefined;
}

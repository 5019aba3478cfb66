// An image is sent to the model only if it is what it says. The API refuses a request holding an
// image it cannot decode, and the image stays in the thread's conversation, so one bad image (a
// connector's "image/png" that is text, a file named .png that is not one) would fail every later
// task in that thread. What fails these checks is left out with a note instead.

export type ImageMediaType = 'image/png' | 'image/jpeg' | 'image/gif' | 'image/webp';

const startsWith = (b: Uint8Array, sig: readonly number[], at = 0) => sig.every((x, i) => b[at + i] === x);
const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));
const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG = [0xff, 0xd8, 0xff];
const GIF87 = ascii('GIF87a');
const GIF89 = ascii('GIF89a');
const RIFF = ascii('RIFF');
const WEBP = ascii('WEBP');

/** The media type `bytes` start as (their magic bytes), or undefined for anything else. */
export function sniffImage(bytes: Uint8Array): ImageMediaType | undefined {
  if (startsWith(bytes, PNG)) return 'image/png';
  if (startsWith(bytes, JPEG)) return 'image/jpeg';
  if (startsWith(bytes, GIF87) || startsWith(bytes, GIF89)) return 'image/gif';
  if (startsWith(bytes, RIFF) && startsWith(bytes, WEBP, 8)) return 'image/webp';
  return undefined;
}

/**
 * `data` as standard padded base64 (what the API accepts), or undefined if it is not base64 at all
 * (a lenient decoder would skip the junk and hide it). Line breaks, as some encoders wrap it, are
 * dropped and missing padding is added.
 */
function asBase64(data: string): string | undefined {
  const s = /\s/.test(data) ? data.replace(/\s+/g, '') : data;
  const body = s.endsWith('=') ? s.replace(/={1,2}$/, '') : s;
  if (/[^A-Za-z0-9+/]/.test(body) || body.length % 4 === 1) return undefined;
  return body + '='.repeat((4 - (body.length % 4)) % 4);
}

export type CheckedImage = { ok: true; mediaType: ImageMediaType; data: string } | { ok: false; why: string };

/** Why bytes that are none of the four types are left out (the note's wording, shared with fs_read). */
export const NOT_AN_IMAGE = 'not a valid image: its bytes are not a PNG, JPEG, GIF or WebP image';

/**
 * `data` (base64) checked as an image: base64, and bytes that start as one of the four image types
 * the model reads. A real image under the wrong type (a JPEG called image/png) is sent as what it is.
 */
export function checkBase64Image(data: string): CheckedImage {
  const clean = asBase64(data);
  if (clean === undefined) return { ok: false, why: 'not a valid image: its data is not base64' };
  if (!clean.length) return { ok: false, why: 'not a valid image: it is empty' };
  // 16 base64 characters are 12 bytes: enough for every signature above (WebP's ends at byte 12).
  const mediaType = sniffImage(Buffer.from(clean.slice(0, 16), 'base64'));
  return mediaType ? { ok: true, mediaType, data: clean } : { ok: false, why: NOT_AN_IMAGE };
}

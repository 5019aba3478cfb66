// An image is sent to the model only if it is what it says. The API refuses a request holding an
// image it cannot decode, and the image stays in the thread's conversation, so one bad image (a
// connector's "image/png" that is text, a file named .png that is not one) would fail every later
// task in that thread. What fails these checks is left out with a note instead. Right magic bytes
// are not enough: a screenshot cut short, or a file read while still being written, starts as a PNG
// and is refused all the same, so each type's structure is walked to its end marker too.

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
function magicType(bytes: Uint8Array): ImageMediaType | undefined {
  if (startsWith(bytes, PNG)) return 'image/png';
  if (startsWith(bytes, JPEG)) return 'image/jpeg';
  if (startsWith(bytes, GIF87) || startsWith(bytes, GIF89)) return 'image/gif';
  if (startsWith(bytes, RIFF) && startsWith(bytes, WEBP, 8)) return 'image/webp';
  return undefined;
}

const u32be = (b: Uint8Array, at: number) => ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
const u32le = (b: Uint8Array, at: number) => (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
const tag = (b: Uint8Array, at: number) => String.fromCharCode(b[at], b[at + 1], b[at + 2], b[at + 3]);

// Each walk below steps over whole chunks or segments by their lengths, so it costs a few steps per
// chunk (a byte scan only through a JPEG's or GIF's compressed data) and says where the data breaks.
// Bytes after the end marker are allowed: decoders stop there, and real files carry such trailers
// (a phone's motion photo appends a video to its JPEG; some cropping tools leave the old tail of a PNG).

/** Why these PNG bytes are not a whole PNG: IHDR first, then chunks by their lengths up to IEND. */
function brokenPng(b: Uint8Array): string | undefined {
  if (b.length < 8 + 25 || tag(b, 12) !== 'IHDR' || u32be(b, 8) !== 13) return 'it does not start with a PNG header';
  for (let at = 8; at + 12 <= b.length; ) {
    const length = u32be(b, at);
    if (tag(b, at + 4) === 'IEND') return undefined;
    at += 12 + length;
  }
  return 'the PNG is cut short (it has no IEND chunk)';
}

/** Why these JPEG bytes are not a whole JPEG: its segments, then its compressed data, up to the EOI marker (FF D9). */
function brokenJpeg(b: Uint8Array): string | undefined {
  let at = 2;
  while (at + 1 < b.length) {
    if (b[at] !== 0xff) return 'the JPEG is damaged (a segment does not start where the previous one ends)';
    const marker = b[at + 1];
    if (marker === 0xd9) return undefined;
    // Fill bytes, and markers with no length (TEM, RST0-7).
    if (marker === 0xff || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += marker === 0xff ? 1 : 2;
      continue;
    }
    if (at + 3 >= b.length) break;
    at += 2 + ((b[at + 2] << 8) | b[at + 3]);
    if (marker !== 0xda) continue;
    // After a start of scan, compressed data runs to the next marker (FF then neither 00 nor a restart).
    for (;;) {
      at = b.indexOf(0xff, at);
      if (at < 0) return 'the JPEG is cut short (it does not end with the EOI marker FF D9)';
      const next = b[at + 1];
      if (next !== 0 && (next < 0xd0 || next > 0xd7)) break;
      at += 2;
    }
  }
  return 'the JPEG is cut short (it does not end with the EOI marker FF D9)';
}

/** Why these GIF bytes are not a whole GIF: its header, then its blocks by their lengths, up to the trailer 0x3B. */
function brokenGif(b: Uint8Array): string | undefined {
  const colorTable = (flags: number) => (flags & 0x80 ? 3 * 2 ** ((flags & 7) + 1) : 0);
  /** Past a run of data sub-blocks (each a length byte, then that many bytes; 0 ends the run). */
  const subBlocks = (from: number) => {
    let at = from;
    while (at < b.length && b[at] !== 0) at += 1 + b[at];
    return at + 1;
  };
  let at = 13 + colorTable(b[10]);
  while (at < b.length) {
    const kind = b[at];
    if (kind === 0x3b) return undefined;
    if (kind === 0x21) at = subBlocks(at + 2);
    else if (kind === 0x2c) at = subBlocks(at + 10 + colorTable(b[at + 9]) + 1);
    else return 'the GIF is damaged (a block of an unknown kind)';
  }
  return 'the GIF is cut short (it does not end with its trailer byte 0x3B)';
}

/** Why these WebP bytes are not a whole WebP: the RIFF size covers the data, and its first chunk fits in it. */
function brokenWebp(b: Uint8Array): string | undefined {
  const riffEnd = 8 + u32le(b, 4);
  if (b.length < 20 || riffEnd > b.length) return 'the WebP is cut short (shorter than its RIFF header says)';
  if (!['VP8 ', 'VP8L', 'VP8X'].includes(tag(b, 12)) || 20 + u32le(b, 16) > riffEnd)
    return 'the WebP is damaged (its first chunk is not an image, or runs past the end)';
  return undefined;
}

const BROKEN: Record<ImageMediaType, (b: Uint8Array) => string | undefined> = {
  'image/png': brokenPng,
  'image/jpeg': brokenJpeg,
  'image/gif': brokenGif,
  'image/webp': brokenWebp,
};

export type CheckedBytes = { ok: true; mediaType: ImageMediaType } | { ok: false; why: string };

/** Why the bytes are left out (the note's wording, shared with fs_read), when they are none of the four types. */
export const NOT_AN_IMAGE = 'not a valid image: its bytes are not a PNG, JPEG, GIF or WebP image';

/** `bytes` checked as an image: one of the four types by its magic bytes, and whole by its structure. */
export function checkImageBytes(bytes: Uint8Array): CheckedBytes {
  const mediaType = magicType(bytes);
  if (!mediaType) return { ok: false, why: NOT_AN_IMAGE };
  const broken = BROKEN[mediaType](bytes);
  return broken ? { ok: false, why: `not a valid image: ${broken}` } : { ok: true, mediaType };
}

/** The media type of `bytes` if they are a whole image of one of the four types, else undefined. */
export function sniffImage(bytes: Uint8Array): ImageMediaType | undefined {
  const checked = checkImageBytes(bytes);
  return checked.ok ? checked.mediaType : undefined;
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

/**
 * `data` (base64) checked as an image: base64, and bytes that are a whole image of one of the four
 * types the model reads. A real image under the wrong type (a JPEG called image/png) is sent as what it is.
 */
export function checkBase64Image(data: string): CheckedImage {
  const clean = asBase64(data);
  if (clean === undefined) return { ok: false, why: 'not a valid image: its data is not base64' };
  if (!clean.length) return { ok: false, why: 'not a valid image: it is empty' };
  const checked = checkImageBytes(Buffer.from(clean, 'base64'));
  return checked.ok ? { ok: true, mediaType: checked.mediaType, data: clean } : checked;
}

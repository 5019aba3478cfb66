// An image goes to the model only if it is whole, not just if it starts right: a PNG signature
// followed by junk (a screenshot cut short, a file read while still being written) was sent as an
// image, the API refused it, and every later task of the thread failed with it. Each type's structure
// is walked to its end marker (PNG IEND after IHDR, JPEG EOI, GIF trailer, WebP's RIFF size); what
// fails is left out with a note that says why, and bytes after the end marker are allowed.
import path from 'node:path';
import { expect, it } from 'vitest';
import { toBlocks } from '../../src/tools/connectors/index.js';
import { readForModel } from '../../src/tools/readers.js';
import { checkBase64Image, checkImageBytes, sniffImage } from '../../src/util/image-bytes.js';
import { GIF, JPEG, WEBP_LOSSLESS, WEBP_LOSSY } from '../helpers/images.js';
import { TINY_PNG } from './pdf.js';

const WHOLE: Array<[string, Buffer, string]> = [
  ['png', TINY_PNG, 'image/png'],
  ['jpeg', JPEG, 'image/jpeg'],
  ['gif', GIF, 'image/gif'],
  ['webp lossy', WEBP_LOSSY, 'image/webp'],
  ['webp lossless', WEBP_LOSSLESS, 'image/webp'],
];

it('whole images of each type pass, also with bytes after their end marker', () => {
  for (const [name, bytes, mediaType] of WHOLE) {
    expect(checkImageBytes(bytes), name).toEqual({ ok: true, mediaType });
    expect(checkBase64Image(bytes.toString('base64')), name).toMatchObject({ ok: true, mediaType });
    // A trailer (a motion photo's video after its JPEG, a PNG's old tail left by a cropping tool).
    expect(checkImageBytes(Buffer.concat([bytes, Buffer.from('trailing bytes')])), name).toEqual({
      ok: true,
      mediaType,
    });
  }
});

it('each type cut short anywhere after its magic bytes is refused, saying why', () => {
  const why: Record<string, RegExp> = {
    png: /PNG is cut short|does not start with a PNG header/,
    jpeg: /JPEG is cut short/,
    gif: /GIF is cut short/,
    'webp lossy': /WebP is cut short/,
    'webp lossless': /WebP is cut short/,
  };
  for (const [name, bytes] of WHOLE)
    for (let len = 12; len < bytes.length; len++) {
      const checked = checkImageBytes(bytes.subarray(0, len));
      expect(checked.ok, `${name} cut to ${len} of ${bytes.length} bytes`).toBe(false);
      if (!checked.ok) expect(checked.why, `${name} cut to ${len}`).toMatch(why[name]);
      expect(sniffImage(bytes.subarray(0, len))).toBeUndefined();
    }
});

it('right magic bytes followed by junk are not an image (the audit case: a PNG signature, then text)', () => {
  const sig = TINY_PNG.subarray(0, 8);
  const junk = Buffer.from('this is the rest of a screenshot that was never written out in full');
  expect(checkImageBytes(Buffer.concat([sig, junk]))).toEqual({
    ok: false,
    why: 'not a valid image: it does not start with a PNG header',
  });
  // IHDR first, then junk: no IEND.
  expect(checkImageBytes(Buffer.concat([TINY_PNG.subarray(0, 33), junk]))).toEqual({
    ok: false,
    why: 'not a valid image: the PNG is cut short (it has no IEND chunk)',
  });
  expect(checkImageBytes(Buffer.concat([JPEG.subarray(0, 20), junk])).ok).toBe(false);
  expect(checkImageBytes(Buffer.concat([GIF.subarray(0, 13), junk])).ok).toBe(false);
  // A RIFF size that does not match the data.
  const bigger = Buffer.from(WEBP_LOSSY);
  bigger.writeUInt32LE(WEBP_LOSSY.length, 4);
  expect(checkImageBytes(bigger)).toEqual({
    ok: false,
    why: 'not a valid image: the WebP is cut short (shorter than its RIFF header says)',
  });
});

it("a connector's truncated screenshot is left out with a note; fs_read of a half-written .png too", async () => {
  const truncated = Buffer.concat([TINY_PNG.subarray(0, 8), Buffer.from('truncated screenshot')]).toString('base64');
  const blocks = toBlocks(
    [
      { type: 'image', mimeType: 'image/png', data: truncated },
      { type: 'image', mimeType: 'image/png', data: TINY_PNG.toString('base64') },
    ],
    undefined,
  );
  expect(blocks).toEqual([
    { type: 'text', text: '[image (image/png) left out: not a valid image: it does not start with a PNG header]' },
    { type: 'image', source: { type: 'base64', media_type: 'image/png', data: TINY_PNG.toString('base64') } },
  ]);
  const halfWritten = TINY_PNG.subarray(0, TINY_PNG.length - 12);
  const read = await readForModel(path.join('/w', 'shot.png'), halfWritten, {});
  expect(read.blocks.map((b) => b.type)).toEqual(['text']);
  expect(read.blocks[0]).toMatchObject({
    text: expect.stringContaining('shot.png: image left out: not a valid image'),
  });
});

it('checks a 5 MB image in a few milliseconds', () => {
  // A large JPEG: its header, then 5 MB of compressed data (FF stuffed as FF 00), then EOI.
  const body = Buffer.alloc(5 * 1024 * 1024, 0x5a);
  for (let i = 0; i < body.length; i += 997) body.writeUInt16BE(0xff00, i);
  const sos = JPEG.indexOf(Buffer.from([0xff, 0xda]));
  const scanHeader = 2 + JPEG.readUInt16BE(sos + 2);
  const big = Buffer.concat([JPEG.subarray(0, sos + scanHeader), body, Buffer.from([0xff, 0xd9])]);
  const started = performance.now();
  for (let i = 0; i < 10; i++) expect(checkImageBytes(big)).toEqual({ ok: true, mediaType: 'image/jpeg' });
  expect(performance.now() - started).toBeLessThan(1_000);
});

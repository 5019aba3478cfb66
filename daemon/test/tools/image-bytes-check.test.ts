// Images reach the model only if they are what they say: base64 that decodes to a PNG, JPEG, GIF
// or WebP. Anything else (text called image/png, junk that is not base64, a file named .png) is
// left out with a note, as an oversized image is; a real image under the wrong type goes as itself.
import { expect, it } from 'vitest';
import { toBlocks } from '../../src/tools/connectors/index.js';
import { fileView, readForModel } from '../../src/tools/readers.js';
import { checkBase64Image, sniffImage } from '../../src/util/image-bytes.js';
import * as images from '../helpers/images.js';
import { TINY_PNG } from './pdf.js';

const b64 = (bytes: number[] | string) => Buffer.from(bytes as never).toString('base64');
const JPEG = images.JPEG.toString('base64');
const GIF = images.GIF.toString('base64');
const WEBP = images.WEBP_LOSSY.toString('base64');
const TEXT = b64('this is not a png');

it('knows the four image types by their first bytes', () => {
  expect(sniffImage(TINY_PNG)).toBe('image/png');
  expect(sniffImage(Buffer.from(JPEG, 'base64'))).toBe('image/jpeg');
  expect(sniffImage(Buffer.from(GIF, 'base64'))).toBe('image/gif');
  expect(sniffImage(Buffer.from(WEBP, 'base64'))).toBe('image/webp');
  expect(sniffImage(Buffer.from('RIFF\x24\x00\x00\x00WAVEfmt '))).toBeUndefined();
  expect(sniffImage(Buffer.from('\x89PNG'))).toBeUndefined();
});

it('checks base64 strictly, allowing line breaks and missing padding', () => {
  const png = TINY_PNG.toString('base64');
  expect(checkBase64Image(png)).toEqual({ ok: true, mediaType: 'image/png', data: png });
  expect(checkBase64Image(png.replace(/(.{20})/g, '$1\n'))).toEqual({ ok: true, mediaType: 'image/png', data: png });
  expect(checkBase64Image(png.replace(/=+$/, ''))).toEqual({ ok: true, mediaType: 'image/png', data: png });
  for (const bad of [`${png.slice(0, 20)}!${png.slice(21)}`, `${png}=`, 'A', `${png.slice(0, 8)}==${png.slice(8)}`])
    expect(checkBase64Image(bad)).toEqual({ ok: false, why: 'not a valid image: its data is not base64' });
  expect(checkBase64Image('')).toMatchObject({ ok: false, why: 'not a valid image: it is empty' });
  expect(checkBase64Image(TEXT)).toMatchObject({
    ok: false,
    why: expect.stringContaining('not a PNG, JPEG, GIF or WebP'),
  });
});

it("a connector's image that is not what it says is replaced with a note; a mislabelled real one goes as itself", () => {
  const blocks = toBlocks(
    [
      { type: 'image', mimeType: 'image/png', data: TEXT },
      { type: 'image', mimeType: 'image/png', data: 'not base64 at all!' },
      { type: 'image', mimeType: 'image/png', data: JPEG },
      { type: 'image', mimeType: 'image/webp', data: WEBP },
    ],
    undefined,
  );
  expect(blocks).toEqual([
    {
      type: 'text',
      text: '[image (image/png) left out: not a valid image: its bytes are not a PNG, JPEG, GIF or WebP image]',
    },
    { type: 'text', text: '[image (image/png) left out: not a valid image: its data is not base64]' },
    { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: JPEG } },
    { type: 'image', source: { type: 'base64', media_type: 'image/webp', data: WEBP } },
  ]);
});

it('fs_read of a file named .png that is not an image gives a note, and the phone sees it as a file', async () => {
  const fake = Buffer.from('just some text\n');
  const read = await readForModel('/w/chart.png', fake, {});
  expect(read.blocks).toEqual([
    {
      type: 'text',
      text: '[chart.png: image left out: not a valid image: its bytes are not a PNG, JPEG, GIF or WebP image]',
    },
  ]);
  const real = await readForModel('/w/photo.png', Buffer.from(JPEG, 'base64'), {});
  expect(real.blocks[1]).toMatchObject({ type: 'image', source: { media_type: 'image/jpeg' } });
  expect(await fileView('/w/chart.png', fake)).toEqual({ kind: 'binary', name: 'chart.png', size: fake.length });
  expect(await fileView('/w/photo.png', Buffer.from(JPEG, 'base64'))).toMatchObject({
    kind: 'image',
    mediaType: 'image/jpeg',
  });
});

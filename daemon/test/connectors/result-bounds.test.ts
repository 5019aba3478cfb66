// The bounds on one connector result (toBlocks): total text, block count, images each and in all,
// structured content; whatever is left out is named in a note at the end.
import { expect, it } from 'vitest';
import { MAX_RESULT_TEXT, toBlocks } from '../../src/tools/connectors/index.js';
import { paddedTo } from '../helpers/images.js';

const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';
const textLength = (blocks: ReturnType<typeof toBlocks>) =>
  blocks.reduce((n, b) => n + (b.type === 'text' ? b.text.length : 0), 0);

it('passes a small result on whole, without a note', () => {
  const blocks = toBlocks(
    [
      { type: 'text', text: 'hello' },
      { type: 'image', mimeType: 'image/png', data: PNG },
    ],
    undefined,
  );
  expect(blocks).toEqual([
    { type: 'text', text: 'hello' },
    { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
  ]);
  expect(toBlocks([], undefined)).toEqual([{ type: 'text', text: '(no output)' }]);
});

it('bounds the number of blocks and the text over all of them', () => {
  const many = toBlocks(
    Array.from({ length: 5000 }, () => ({ type: 'text', text: 'x' })),
    undefined,
  );
  expect(many).toHaveLength(101);
  expect(many.at(-1)).toMatchObject({ text: expect.stringContaining('4,900 characters and 4,900 more blocks') });

  const structured = toBlocks(undefined, { rows: 'y'.repeat(3 * MAX_RESULT_TEXT) });
  expect(textLength(structured)).toBeLessThan(MAX_RESULT_TEXT + 500);
  expect(structured.at(-1)).toMatchObject({
    text: expect.stringMatching(/^\[Clipped: .*200,011 characters were left out/),
  });

  const resource = toBlocks(
    [{ type: 'resource', resource: { uri: 'x:/a', text: 'z'.repeat(2 * MAX_RESULT_TEXT) } }],
    undefined,
  );
  expect(textLength(resource)).toBeLessThan(MAX_RESULT_TEXT + 500);
});

it('leaves out images over 5 MB each, and once the images total 5 MB', () => {
  // A 4 MB image: a whole PNG, then padding (the bytes are checked to be a whole image).
  const four = paddedTo(Buffer.from(PNG, 'base64'), 4 * 1024 * 1024).toString('base64');
  const blocks = toBlocks(
    [
      { type: 'image', mimeType: 'image/png', data: four },
      { type: 'image', mimeType: 'image/png', data: four },
      { type: 'image', mimeType: 'image/png', data: PNG },
    ],
    undefined,
  );
  expect(blocks.map((b) => b.type)).toEqual(['image', 'text', 'image']);
  expect(blocks[1]).toMatchObject({
    text: "[image (image/png, 4.0 MB) left out: this result's images may total at most 5.0 MB]",
  });
});

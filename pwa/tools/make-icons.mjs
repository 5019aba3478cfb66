// Draws the app icons as PNGs with no dependencies (run once: node pwa/tools/make-icons.mjs).
// A paper plane on a blue field; the maskable variant keeps it inside the 80% safe zone.

import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';

const out = fileURLToPath(new URL('../public/icons/', import.meta.url));
mkdirSync(out, { recursive: true });

const CRC = new Uint32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
function png(size, rgba) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8;
  ihdr[9] = 6;
  ihdr[10] = 0;
  ihdr[11] = 0;
  ihdr[12] = 0;
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0;
    rgba.copy(raw, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4);
  }
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
function inPoly(x, y, pts) {
  let inside = false;
  for (let i = 0, j = pts.length - 1; i < pts.length; j = i++) {
    const [xi, yi] = pts[i],
      [xj, yj] = pts[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}
// Paper plane in unit coordinates (0..1), centred.
const PLANE = [
  [0.18, 0.47],
  [0.84, 0.2],
  [0.6, 0.82],
  [0.47, 0.56],
];
const FOLD = [
  [0.47, 0.56],
  [0.84, 0.2],
  [0.5, 0.6],
];

function draw(size, { scale = 1, bg = [31, 58, 138], rounded = true, mono = false }) {
  const buf = Buffer.alloc(size * size * 4);
  const S = 4;
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      let r = 0,
        g = 0,
        b = 0,
        a = 0;
      for (let sy = 0; sy < S; sy++)
        for (let sx = 0; sx < S; sx++) {
          const u = (x + (sx + 0.5) / S) / size,
            v = (y + (sy + 0.5) / S) / size;
          // background: rounded square (any) or full bleed (maskable); none for the monochrome badge
          let inBg = !mono;
          if (rounded && !mono) {
            const rad = 0.22,
              cx = Math.min(Math.max(u, rad), 1 - rad),
              cy = Math.min(Math.max(v, rad), 1 - rad);
            inBg = (u - cx) ** 2 + (v - cy) ** 2 <= rad * rad;
          }
          const pu = (u - 0.5) / scale + 0.5,
            pv = (v - 0.5) / scale + 0.5;
          const plane = inPoly(pu, pv, PLANE),
            fold = inPoly(pu, pv, FOLD);
          if (plane) {
            const c = fold && !mono ? [200, 214, 255] : [255, 255, 255];
            r += c[0];
            g += c[1];
            b += c[2];
            a += 255;
          } else if (inBg) {
            r += bg[0];
            g += bg[1];
            b += bg[2];
            a += 255;
          }
        }
      const n = S * S,
        i = (y * size + x) * 4;
      const alpha = a / n;
      buf[i] = alpha ? Math.round((r / n) * (255 / alpha)) : 0;
      buf[i + 1] = alpha ? Math.round((g / n) * (255 / alpha)) : 0;
      buf[i + 2] = alpha ? Math.round((b / n) * (255 / alpha)) : 0;
      buf[i + 3] = Math.round(alpha);
    }
  return png(size, buf);
}

writeFileSync(out + 'icon-192.png', draw(192, {}));
writeFileSync(out + 'icon-512.png', draw(512, {}));
writeFileSync(out + 'maskable-512.png', draw(512, { rounded: false, scale: 0.72 }));
writeFileSync(out + 'apple-touch-icon.png', draw(180, { rounded: false, scale: 0.8 }));
writeFileSync(out + 'badge-96.png', draw(96, { mono: true }));
console.log('icons written to', out);

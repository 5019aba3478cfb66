// The pairing QR code for a terminal. Colours are explicit (black modules on a white ground), so it
// scans on light and dark terminals alike, with the 4-module quiet zone scanners expect. Two module
// rows per text line (half blocks). With NO_COLOR, or when the output is not a terminal (a pipe, a
// file, a service's log), dark modules are drawn as plain blocks: no escape codes (for light
// backgrounds, print, and whatever reads the output).
import { createRequire } from 'node:module';

interface QRCodeModel {
  addData(data: string): void;
  make(): void;
  getModuleCount(): number;
  isDark(row: number, col: number): boolean;
}

const QUIET_ZONE = 4;

function modules(text: string): boolean[][] {
  const require = createRequire(import.meta.url);
  const QRCode = require('qrcode-terminal/vendor/QRCode') as new (type: number, level: number) => QRCodeModel;
  const level = require('qrcode-terminal/vendor/QRCode/QRErrorCorrectLevel') as { M: number };
  const qr = new QRCode(-1, level.M);
  qr.addData(text);
  qr.make();
  const n = qr.getModuleCount();
  const size = n + QUIET_ZONE * 2;
  return Array.from({ length: size }, (_, r) =>
    Array.from({ length: size }, (_, c) => {
      const row = r - QUIET_ZONE;
      const col = c - QUIET_ZONE;
      return row >= 0 && col >= 0 && row < n && col < n && qr.isDark(row, col);
    }),
  );
}

/** The QR code as text lines (with the quiet zone), ready to print. */
export function renderQrText(text: string, opts: { color?: boolean } = {}): string {
  const color = opts.color ?? (process.stdout.isTTY === true && !process.env.NO_COLOR);
  const grid = modules(text);
  if (grid.length % 2) grid.push(grid[0].map(() => false));
  const lines: string[] = [];
  for (let r = 0; r < grid.length; r += 2) {
    let line = '';
    for (let c = 0; c < grid[r].length; c++) {
      const top = grid[r][c];
      const bottom = grid[r + 1][c];
      line += top && bottom ? '█' : top ? '▀' : bottom ? '▄' : ' ';
    }
    // Black foreground on a bright white background, whatever the terminal's own colours are.
    lines.push(color ? `\x1b[30;107m${line}\x1b[0m` : line);
  }
  return lines.join('\n');
}

export function renderQr(url: string): Promise<string> {
  return Promise.resolve(renderQrText(url));
}

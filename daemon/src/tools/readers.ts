// Turning files into something the model (or the phone) can read: text with line paging, CSV and
// XLSX as tables with row paging, PDF text paged by pages, images as image blocks. Every limit is
// said out loud ("lines 1-400 of 12,000; call again with offset=401"), never a silent cut.
import path from 'node:path';
import type { FileView } from '../../../shared/src/index.js';
import type { ToolResultBlock } from '../agent/tool-runtime.js';
import { NOT_AN_IMAGE, sniffImage } from '../util/image-bytes.js';
import { clip, fmt, ToolError } from './util.js';

export const MAX_READ_BYTES = 50 * 1024 * 1024;
export const MAX_IMAGE_BYTES = 5 * 1024 * 1024;
export const MAX_CHARS = 60_000;
const DEFAULT_LINES = 400;
const DEFAULT_ROWS = 200;
const DEFAULT_PAGES = 20;
const CELL_CHARS = 200;

const IMAGE_TYPES: Record<string, 'image/png' | 'image/jpeg' | 'image/gif' | 'image/webp'> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
};

export type FileKind = 'text' | 'csv' | 'xlsx' | 'pdf' | 'image' | 'binary';

export function kindOf(file: string, data?: Buffer): FileKind {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.csv' || ext === '.tsv') return 'csv';
  if (ext === '.xlsx' || ext === '.xlsm') return 'xlsx';
  if (ext === '.pdf') return 'pdf';
  if (IMAGE_TYPES[ext]) return 'image';
  if (data && looksBinary(data)) return 'binary';
  return 'text';
}

export function looksBinary(data: Buffer): boolean {
  const sample = data.subarray(0, 8192);
  return sample.includes(0);
}

export interface ReadOptions {
  /** First line (text), row (tables) or page (PDF) to show, 1-based. */
  offset?: number;
  limit?: number;
  sheet?: string;
}

export interface ReadResult {
  blocks: ToolResultBlock[];
  summary: string;
}

const positive = (n: unknown, dflt: number): number =>
  typeof n === 'number' && Number.isFinite(n) && n >= 1 ? Math.floor(n) : dflt;

export function readText(name: string, text: string, opts: ReadOptions): ReadResult {
  const lines = text.split(/\r?\n/);
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  const total = lines.length;
  const start = Math.min(positive(opts.offset, 1), Math.max(total, 1));
  const limit = positive(opts.limit, DEFAULT_LINES);
  let end = Math.min(total, start - 1 + limit);
  let out = '';
  let chars = 0;
  for (let i = start - 1; i < end; i++) {
    const line = lines[i];
    if (chars + line.length + 1 > MAX_CHARS && i > start - 1) {
      end = i;
      break;
    }
    out += (i > start - 1 ? '\n' : '') + clip(line, MAX_CHARS);
    chars += line.length + 1;
  }
  const whole = start === 1 && end >= total;
  const note = whole
    ? `[${name}: all ${fmt(total)} lines]`
    : `[${name}: lines ${fmt(start)}-${fmt(end)} of ${fmt(total)}${end < total ? `; call again with offset=${end + 1} to read on` : ''}]`;
  return {
    blocks: [{ type: 'text', text: `${note}\n${out}` }],
    summary: whole ? `${fmt(total)} lines` : `lines ${fmt(start)}-${fmt(end)} of ${fmt(total)}`,
  };
}

/** RFC 4180-style CSV (quotes, doubled quotes, CRLF); tab-separated when the name ends in .tsv. */
export function parseCsv(text: string, sep = ','): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === sep) {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

function tableText(rows: string[][], firstRowNumber: number): string {
  return rows
    .map((r, i) => `${firstRowNumber + i}: | ${r.map((c) => clip(c.replace(/\r?\n/g, ' '), CELL_CHARS)).join(' | ')} |`)
    .join('\n');
}

function pageTable(name: string, label: string, rows: string[][], opts: ReadOptions): { text: string; shown: string } {
  const total = rows.length;
  const start = Math.min(positive(opts.offset, 1), Math.max(total, 1));
  const limit = positive(opts.limit, DEFAULT_ROWS);
  let end = Math.min(total, start - 1 + limit);
  let body = tableText(rows.slice(start - 1, end), start);
  while (body.length > MAX_CHARS && end > start) {
    end = start + Math.floor((end - start) / 2);
    body = tableText(rows.slice(start - 1, end), start);
  }
  const cols = rows.reduce((m, r) => Math.max(m, r.length), 0);
  const whole = start === 1 && end >= total;
  const shown = whole ? `all ${fmt(total)} rows` : `rows ${fmt(start)}-${fmt(end)} of ${fmt(total)}`;
  const more =
    end < total
      ? `; call again with offset=${end + 1}${opts.sheet ? ` and sheet="${opts.sheet}"` : ''} to read on`
      : '';
  return { text: `[${name}${label}: ${shown}, ${cols} columns${more}]\n${body}`, shown };
}

export function readCsv(name: string, text: string, opts: ReadOptions): ReadResult {
  const rows = parseCsv(text, name.toLowerCase().endsWith('.tsv') ? '\t' : ',');
  const { text: out, shown } = pageTable(name, '', rows, opts);
  return { blocks: [{ type: 'text', text: out }], summary: `table, ${shown}` };
}

function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (v instanceof Date)
    return v.getUTCHours() || v.getUTCMinutes() || v.getUTCSeconds() ? v.toISOString() : v.toISOString().slice(0, 10);
  return String(v);
}

/**
 * Every sheet as rows of text. read-excel-file returns formulas as the values the spreadsheet app
 * computed and dates as Dates (from the cell's number format).
 */
export async function xlsxSheets(data: Buffer): Promise<Array<{ name: string; rows: string[][] }>> {
  const readExcelFile = (await import('read-excel-file/node')).default;
  const sheets = await readExcelFile(data);
  return sheets.map((s) => ({ name: s.sheet, rows: s.data.map((row) => row.map(cellText)) }));
}

/** The whole workbook is held in memory, many times its file size. */
export const MAX_XLSX_BYTES = 15 * 1024 * 1024;

export async function readXlsx(name: string, data: Buffer, opts: ReadOptions): Promise<ReadResult> {
  if (data.length > MAX_XLSX_BYTES)
    throw new ToolError(
      `${name} is ${fmt(data.length)} bytes; Errand reads spreadsheets up to ${fmt(MAX_XLSX_BYTES)} bytes. Export the sheet you need as CSV.`,
    );
  const sheets = await xlsxSheets(data);
  const list = `[${name}: ${sheets.length} sheet${sheets.length === 1 ? '' : 's'}: ${sheets.map((s) => `"${s.name}" (${fmt(s.rows.length)} rows)`).join(', ')}]`;
  let chosen = sheets;
  if (opts.sheet !== undefined) {
    chosen = sheets.filter((s) => s.name === opts.sheet);
    if (!chosen.length) throw new ToolError(`${name} has no sheet "${opts.sheet}". ${list}`);
  }
  const parts = [list];
  for (const s of chosen)
    parts.push(
      pageTable(name, ` sheet "${s.name}"`, s.rows, chosen.length > 1 ? { ...opts, sheet: s.name } : opts).text,
    );
  return {
    blocks: [{ type: 'text', text: parts.join('\n\n') }],
    summary: `${sheets.length} sheet${sheets.length === 1 ? '' : 's'}`,
  };
}

export async function pdfPages(
  data: Buffer,
  first = 1,
  max = Number.MAX_SAFE_INTEGER,
): Promise<{ total: number; pages: string[] }> {
  // unpdf: pdf.js built for servers, without the canvas package text extraction does not need.
  const { getDocumentProxy } = await import('unpdf');
  const doc = await getDocumentProxy(new Uint8Array(data), {
    isEvalSupported: false,
    disableFontFace: true,
    verbosity: 0,
  });
  try {
    const pages: string[] = [];
    const last = Math.min(doc.numPages, first - 1 + max);
    for (let n = first; n <= last; n++) {
      const page = await doc.getPage(n);
      const content = await page.getTextContent();
      let text = '';
      for (const item of content.items) {
        if ('str' in item) text += item.str + (item.hasEOL ? '\n' : '');
      }
      pages.push(text.trim());
    }
    return { total: doc.numPages, pages };
  } finally {
    await doc.destroy();
  }
}

export async function readPdf(name: string, data: Buffer, opts: ReadOptions): Promise<ReadResult> {
  const start = positive(opts.offset, 1);
  const limit = positive(opts.limit, DEFAULT_PAGES);
  let { total, pages } = await pdfPages(data, start, limit);
  if (start > total && total > 0) throw new ToolError(`${name} has ${total} pages; offset ${start} is past the end.`);
  let body = pages.map((t, i) => `--- page ${start + i} ---\n${t}`).join('\n');
  while (body.length > MAX_CHARS && pages.length > 1) {
    pages = pages.slice(0, Math.ceil(pages.length / 2));
    body = pages.map((t, i) => `--- page ${start + i} ---\n${t}`).join('\n');
  }
  body = clip(body, MAX_CHARS);
  const end = start + pages.length - 1;
  const whole = start === 1 && end >= total;
  const note = whole
    ? `[${name}: all ${total} pages]`
    : `[${name}: pages ${start}-${end} of ${total}${end < total ? `; call again with offset=${end + 1} to read on` : ''}]`;
  const empty = pages.every((p) => !p) ? '\n(No text layer on these pages: the PDF may be scanned images.)' : '';
  return {
    blocks: [{ type: 'text', text: `${note}\n${body}${empty}` }],
    summary: whole ? `${total} pages` : `pages ${start}-${end} of ${total}`,
  };
}

export function readImage(name: string, data: Buffer): ReadResult {
  const mediaType = IMAGE_TYPES[path.extname(name).toLowerCase()];
  if (!mediaType) throw new ToolError(`${name} is not a supported image type (png, jpeg, gif, webp).`);
  if (data.length > MAX_IMAGE_BYTES)
    throw new ToolError(
      `${name} is ${fmt(data.length)} bytes; images over ${fmt(MAX_IMAGE_BYTES)} bytes are not sent to the model.`,
    );
  // The name is only a claim: bytes that are no image would make the API refuse this request and
  // every later one of the thread (image-bytes.ts), and a real one under another name goes as what it is.
  const actual = sniffImage(data);
  if (!actual)
    return {
      blocks: [{ type: 'text', text: `[${name}: image left out: ${NOT_AN_IMAGE}]` }],
      summary: 'not a valid image, left out',
    };
  return {
    blocks: [
      { type: 'text', text: `[${name}: image, ${fmt(data.length)} bytes]` },
      { type: 'image', source: { type: 'base64', media_type: actual, data: data.toString('base64') } },
    ],
    summary: `image, ${fmt(data.length)} bytes`,
  };
}

/** Read any supported file for the model. */
export async function readForModel(file: string, data: Buffer, opts: ReadOptions): Promise<ReadResult> {
  const name = path.basename(file);
  switch (kindOf(file, data)) {
    case 'csv':
      return readCsv(name, data.toString('utf8'), opts);
    case 'xlsx':
      return readXlsx(name, data, opts);
    case 'pdf':
      return readPdf(name, data, opts);
    case 'image':
      return readImage(name, data);
    case 'binary':
      throw new ToolError(
        `${name} is a binary file (${fmt(data.length)} bytes) that Errand cannot show as text. Supported: text, CSV, XLSX, PDF, PNG/JPEG/GIF/WebP.`,
      );
    default:
      return readText(name, data.toString('utf8'), opts);
  }
}

const VIEW_CHARS = 200_000;
const VIEW_ROWS = 500;

/** A file converted for the phone: text, markdown, tables, an image, or "binary, N bytes". */
export async function fileView(file: string, data: Buffer): Promise<FileView> {
  const name = path.basename(file);
  const ext = path.extname(file).toLowerCase();
  const kind = kindOf(file, data);
  const cap = (text: string) => ({ text: text.slice(0, VIEW_CHARS), truncated: text.length > VIEW_CHARS });
  try {
    if (kind === 'csv') {
      const rows = parseCsv(data.toString('utf8'), ext === '.tsv' ? '\t' : ',');
      return {
        kind: 'table',
        name,
        sheets: [{ name, rows: rows.slice(0, VIEW_ROWS), truncated: rows.length > VIEW_ROWS }],
      };
    }
    if (kind === 'xlsx' && data.length <= MAX_XLSX_BYTES) {
      const sheets = await xlsxSheets(data);
      return {
        kind: 'table',
        name,
        sheets: sheets.map((s) => ({
          name: s.name,
          rows: s.rows.slice(0, VIEW_ROWS),
          truncated: s.rows.length > VIEW_ROWS,
        })),
      };
    }
    if (kind === 'pdf') {
      const { pages } = await pdfPages(data, 1, 200);
      return { kind: 'text', name, ...cap(pages.map((p, i) => `--- page ${i + 1} ---\n${p}`).join('\n')) };
    }
    const imageType = kind === 'image' ? sniffImage(data) : undefined;
    if (imageType && data.length <= MAX_IMAGE_BYTES)
      return { kind: 'image', name, mediaType: imageType, dataBase64: data.toString('base64') };
  } catch {
    return { kind: 'binary', name, size: data.length };
  }
  if (kind === 'text')
    return { kind: ext === '.md' || ext === '.markdown' ? 'markdown' : 'text', name, ...cap(data.toString('utf8')) };
  return { kind: 'binary', name, size: data.length };
}

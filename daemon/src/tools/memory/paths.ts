// The memory tool's path rules. The model names files as /memories/...; each name maps to one file
// under the memory folder in Errand's home (outside every allowed root). Refused: anything not under
// /memories, `..` or `.` segments, backslashes, NUL and control characters, over-long names, and any
// link on the way (a link could lead out of the folder).
import fsp from 'node:fs/promises';
import path from 'node:path';
import { holdsInvisible } from '../safe-names.js';
import { ToolError } from '../util.js';

export const MEMORY_PREFIX = '/memories';
/** One memory file at most this many bytes: memory is notes, not storage. */
export const MAX_MEMORY_FILE = 100_000;
const MAX_PATH = 512;
/** One name: no slash, backslash or control character (its length is checked in bytes, to say so). */
const SEGMENT = /^[^/\\\0-\x1f\x7f]+$/;
/** What the disk takes for one name, in bytes (not characters: "é" is two). */
const MAX_SEGMENT_BYTES = 255;

export interface MemoryPath {
  /** The name as the model sees it: /memories or /memories/a/b.md */
  name: string;
  /** Segments under the memory folder ([] for the folder itself). */
  segments: string[];
  /** The file's path on disk. */
  real: string;
}

export function memoryPath(root: string, input: unknown): MemoryPath {
  if (typeof input !== 'string' || !input) throw new ToolError('"path" is required and must start with /memories.');
  if (input.length > MAX_PATH) throw new ToolError(`The path is too long (over ${MAX_PATH} characters).`);
  if (input.includes('\0')) throw new ToolError('The path contains a NUL character.');
  const trimmed = input.length > 1 && input.endsWith('/') ? input.slice(0, -1) : input;
  if (trimmed !== MEMORY_PREFIX && !trimmed.startsWith(`${MEMORY_PREFIX}/`))
    throw new ToolError(`Refused: ${input.slice(0, 80)} is outside /memories. Memory paths start with /memories/.`);
  const segments = trimmed
    .slice(MEMORY_PREFIX.length)
    .split('/')
    .filter((_, i) => i > 0);
  for (const s of segments) {
    if (s === '..' || s === '.' || !SEGMENT.test(s))
      throw new ToolError(`Refused: ${input.slice(0, 80)} is not a plain path under /memories ("${s.slice(0, 40)}").`);
    if (Buffer.byteLength(s) > MAX_SEGMENT_BYTES)
      throw new ToolError(
        `Refused: the name "${s.slice(0, 40)}…" is too long (${Buffer.byteLength(s)} bytes in UTF-8; a name holds at most ${MAX_SEGMENT_BYTES}). Pick a shorter name.`,
      );
  }
  const real = path.join(root, ...segments);
  // Belt and braces: the join stays in the folder.
  const rel = path.relative(root, real);
  if (rel.startsWith('..') || path.isAbsolute(rel)) throw new ToolError('Refused: the path leaves /memories.');
  return { name: segments.length ? `${MEMORY_PREFIX}/${segments.join('/')}` : MEMORY_PREFIX, segments, real };
}

/**
 * For a name the model gives a new file (create, rename): no mark that reorders or hides what a
 * reader sees. Existing files keep working (read, edit, delete) whatever their name.
 */
export function refuseInvisibleName(p: MemoryPath): void {
  if (p.segments.some(holdsInvisible))
    throw new ToolError(
      'Refused: the name holds an invisible or direction-changing character. Name memory files with visible characters only.',
    );
}

/** No link anywhere from the memory folder down to the path (the path itself may not exist yet). */
export async function refuseLinks(root: string, p: MemoryPath): Promise<void> {
  let cur = root;
  for (const s of ['', ...p.segments]) {
    cur = s ? path.join(cur, s) : cur;
    let st: import('node:fs').Stats;
    try {
      st = await fsp.lstat(cur);
    } catch {
      return; // missing from here on: nothing to follow
    }
    if (st.isSymbolicLink())
      throw new ToolError(`Refused: ${p.name} goes through a link; memory does not follow links.`);
    if (st.isFile() && st.nlink > 1) throw new ToolError(`Refused: ${p.name} has other hard links.`);
  }
}

// The user's side of memory: list, read, replace, delete and clear the memory files, and keep the
// personal instructions file. Same path rules as the memory tool (paths.ts); writes are atomic and
// durable before the reply.
import fsp from 'node:fs/promises';
import path from 'node:path';
import { MAX_INSTRUCTIONS, MAX_MEMORY_LISTED, type MemoryEntry } from '../../../../shared/src/index.js';
import { CommandError } from '../../util/command-error.js';
import { writeAtomic } from '../journal.js';
import { ToolError } from '../util.js';
import { byPath, memoryBoundBreach, memoryFiles, withMemoryLock } from './bounds.js';
import { MAX_MEMORY_FILE, MEMORY_PREFIX, memoryPath, refuseLinks } from './paths.js';

export class MemoryService {
  constructor(
    readonly root: string,
    private readonly instructionsFile: string,
  ) {}

  private async at(name: string) {
    try {
      const p = memoryPath(this.root, name);
      if (!p.segments.length) throw new ToolError('Name a file under /memories/.');
      await refuseLinks(this.root, p);
      return p;
    } catch (err) {
      throw new CommandError('bad_request', (err as Error).message);
    }
  }

  /**
   * The memory files sorted by path, at most MAX_MEMORY_LISTED of them, with how many there are in
   * all: a cut list says so, and which files it shows never depends on the order on disk.
   */
  async list(): Promise<{ entries: MemoryEntry[]; total: number; truncated: boolean }> {
    const files = (await memoryFiles(this.root)).map((f) => ({
      path: `${MEMORY_PREFIX}/${f.segments.join('/')}`,
      bytes: f.bytes,
      modifiedAt: f.modifiedAt,
    }));
    files.sort((a, b) => byPath(a.path, b.path));
    return {
      entries: files.slice(0, MAX_MEMORY_LISTED),
      total: files.length,
      truncated: files.length > MAX_MEMORY_LISTED,
    };
  }

  async read(name: string): Promise<{ path: string; text: string }> {
    const p = await this.at(name);
    let st: import('node:fs').Stats;
    try {
      st = await fsp.lstat(p.real);
    } catch {
      throw new CommandError('not_found', `${p.name} does not exist.`);
    }
    if (!st.isFile()) throw new CommandError('bad_request', `${p.name} is not a file.`);
    if (st.size > MAX_MEMORY_FILE) throw new CommandError('too_large', `${p.name} is too large to show.`);
    return { path: p.name, text: await fsp.readFile(p.real, 'utf8') };
  }

  async write(name: string, text: string): Promise<MemoryEntry> {
    const p = await this.at(name);
    if (Buffer.byteLength(text) > MAX_MEMORY_FILE)
      throw new CommandError('too_large', `A memory file holds at most ${MAX_MEMORY_FILE} bytes.`);
    // Checked and written under the folder's lock, as the memory tool's writes are (bounds.ts).
    await withMemoryLock(this.root, async () => {
      const breach = await memoryBoundBreach(this.root, p.real, Buffer.byteLength(text));
      if (breach)
        throw new CommandError(
          'too_large',
          `${p.name} not saved: ${breach}. Delete notes you no longer need (Settings → Memory, or errand memory rm), then save again.`,
        );
      await fsp.mkdir(path.dirname(p.real), { recursive: true, mode: 0o700 });
      await refuseLinks(this.root, p);
      await writeAtomic(p.real, Buffer.from(text, 'utf8'), 0o600);
    });
    const st = await fsp.lstat(p.real);
    return { path: p.name, bytes: st.size, modifiedAt: Math.floor(st.mtimeMs) };
  }

  async remove(name: string): Promise<void> {
    const p = await this.at(name);
    try {
      await fsp.rm(p.real, { recursive: true });
    } catch {
      throw new CommandError('not_found', `${p.name} does not exist.`);
    }
  }

  /** Delete every memory file; returns how many there were. */
  async clear(): Promise<number> {
    const n = (await memoryFiles(this.root)).length;
    for (const name of await fsp.readdir(this.root).catch(() => [] as string[]))
      await fsp.rm(path.join(this.root, name), { recursive: true, force: true });
    return n;
  }

  async instructions(): Promise<string> {
    try {
      return (await fsp.readFile(this.instructionsFile, 'utf8')).slice(0, MAX_INSTRUCTIONS);
    } catch {
      return '';
    }
  }

  async setInstructions(text: string): Promise<string> {
    if (text.length > MAX_INSTRUCTIONS)
      throw new CommandError('too_large', `Instructions hold at most ${MAX_INSTRUCTIONS} characters.`);
    await writeAtomic(this.instructionsFile, Buffer.from(text, 'utf8'), 0o600);
    return text;
  }
}

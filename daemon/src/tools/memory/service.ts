// The user's side of memory: list, read, replace, delete and clear the memory files, and keep the
// personal instructions file. Same path rules as the memory tool (paths.ts); writes are atomic and
// durable before the reply.
import fsp from 'node:fs/promises';
import path from 'node:path';
import { MAX_INSTRUCTIONS, type MemoryEntry } from '../../../../shared/src/index.js';
import { CommandError } from '../../util/command-error.js';
import { writeAtomic } from '../journal.js';
import { ToolError } from '../util.js';
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

  async list(): Promise<MemoryEntry[]> {
    const out: MemoryEntry[] = [];
    const walk = async (dir: string, rel: string[]) => {
      let entries: import('node:fs').Dirent[];
      try {
        entries = await fsp.readdir(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        if (out.length >= 1000) return;
        const full = path.join(dir, e.name);
        if (e.isDirectory()) await walk(full, [...rel, e.name]);
        else if (e.isFile()) {
          const st = await fsp.lstat(full);
          out.push({
            path: `${MEMORY_PREFIX}/${[...rel, e.name].join('/')}`,
            bytes: st.size,
            modifiedAt: Math.floor(st.mtimeMs),
          });
        }
      }
    };
    await walk(this.root, []);
    return out.sort((a, b) => a.path.localeCompare(b.path));
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
    await fsp.mkdir(path.dirname(p.real), { recursive: true, mode: 0o700 });
    await refuseLinks(this.root, p);
    await writeAtomic(p.real, Buffer.from(text, 'utf8'), 0o600);
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
    const n = (await this.list()).length;
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

// Files sent from the phone: claimed from the upload store, moved into <workspace>/inbox/ (never
// over an existing file), and given to the model: the path in the message, images also as images.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Attachment } from '../../../shared/src/index.js';
import type { UploadStore } from '../store/uploads.js';
import { CommandError } from '../util/command-error.js';
import type { ImageBlock, TextBlock } from './wire.js';

const IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);
const MAX_IMAGE_BYTES = 5 * 1024 * 1024;

export interface Landed {
  attachment: Attachment;
  file: string;
}

async function freeName(dir: string, name: string): Promise<string> {
  const ext = path.extname(name);
  const stem = name.slice(0, name.length - ext.length) || 'file';
  for (let n = 1; ; n++) {
    const candidate = path.join(dir, n === 1 ? name : `${stem} (${n})${ext}`);
    try {
      await fs.access(candidate);
    } catch {
      return candidate;
    }
  }
}

async function moveFile(from: string, to: string): Promise<void> {
  // Claim the name exclusively so two messages never land on the same file.
  const handle = await fs.open(to, 'wx', 0o600);
  await handle.close();
  try {
    await fs.rename(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    await fs.copyFile(from, to);
    await fs.rm(from, { force: true });
  }
}

export async function landAttachments(
  ids: string[] | undefined,
  deviceId: string,
  uploads: UploadStore,
  workspace: string,
): Promise<Landed[]> {
  if (!ids?.length) return [];
  const claimed = [];
  for (const id of ids) {
    const u = uploads.claim(id, deviceId);
    if (!u)
      throw new CommandError('not_found', `The attachment ${id} was not found or was already used. Upload it again.`);
    claimed.push(u);
  }
  const inbox = path.join(workspace, 'inbox');
  await fs.mkdir(inbox, { recursive: true, mode: 0o700 });
  const out: Landed[] = [];
  for (const u of claimed) {
    let target = await freeName(inbox, u.name);
    for (let tries = 0; ; tries++) {
      try {
        await moveFile(u.file, target);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || tries > 5) throw err;
        target = await freeName(inbox, u.name);
      }
    }
    out.push({
      attachment: {
        id: u.id,
        name: u.name,
        size: u.size,
        mediaType: u.mediaType,
        path: path.relative(workspace, target),
      },
      file: target,
    });
  }
  return out;
}

/** The user message content for the model: the text, where the files are, and images as images. */
export async function userContent(text: string, landed: Landed[]): Promise<Array<TextBlock | ImageBlock>> {
  if (!landed.length) return [{ type: 'text', text }];
  const lines = landed.map((l) => `- ${l.file} (${l.attachment.mediaType}, ${l.attachment.size} bytes)`);
  const blocks: Array<TextBlock | ImageBlock> = [
    { type: 'text', text: `${text}\n\nAttached files (saved on this computer):\n${lines.join('\n')}` },
  ];
  for (const l of landed) {
    if (!IMAGE_TYPES.has(l.attachment.mediaType) || l.attachment.size > MAX_IMAGE_BYTES) continue;
    const data = (await fs.readFile(l.file)).toString('base64');
    blocks.push({
      type: 'image',
      source: { type: 'base64', media_type: l.attachment.mediaType as ImageBlock['source']['media_type'], data },
    });
  }
  return blocks;
}

// Files sent from the phone: taken from the upload store into <workspace>/inbox/ (never over an
// existing file) and given to the model: the path in the message, images also as images.
//
// Crash-safe and idempotent: the inbox file is a second name of the upload's file (a copy where hard
// links are not possible), made after the upload has noted that name durably. The upload itself is
// removed only once the command's record is committed (store/uploads.ts), so a command killed before
// its record leaves the upload waiting; its resend (same command id, or another message with the same
// upload) uses the very inbox file the first attempt made instead of making a second one.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Attachment } from '../../../shared/src/index.js';
import { sameFile, type TakenUpload, type UploadStore } from '../store/uploads.js';
import { CommandError } from '../util/command-error.js';
import { fsyncDir } from '../util/durable-file.js';
import { NOT_AN_IMAGE, sniffImage } from '../util/image-bytes.js';
import type { ImageBlock, TextBlock } from './wire.js';

const IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);
const MAX_IMAGE_BYTES = 5 * 1024 * 1024;
/** Where a second name for a file cannot be made: the inbox file is a copy. */
const NO_HARD_LINKS = new Set(['EXDEV', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EMLINK']);

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
      await fs.lstat(candidate);
    } catch {
      return candidate;
    }
  }
}

/** Make `to` (a new name, never over an existing file) hold the upload's bytes. */
async function linkFile(from: string, to: string): Promise<void> {
  try {
    await fs.link(from, to);
    return;
  } catch (err) {
    if (!NO_HARD_LINKS.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
  }
  await fs.copyFile(from, to, fs.constants.COPYFILE_EXCL);
  const handle = await fs.open(to, 'r+');
  try {
    await handle.chmod(0o600);
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

/** The inbox file of one upload: the one an earlier attempt made, or a new one. */
async function landOne(u: TakenUpload, inbox: string, uploads: UploadStore): Promise<string> {
  if (u.landed && path.dirname(u.landed) === inbox && (await sameFile(u.file, u.landed))) return u.landed;
  for (let tries = 0; ; tries++) {
    const target = await freeName(inbox, u.name);
    // Noted first: a crash after the link leaves no inbox file the upload does not know about.
    await uploads.land(u.id, target);
    try {
      await linkFile(u.file, target);
      return target;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || tries > 5) throw err;
    }
  }
}

export async function landAttachments(
  ids: string[] | undefined,
  deviceId: string,
  uploads: UploadStore,
  workspace: string,
): Promise<Landed[]> {
  if (!ids?.length) return [];
  const taken: TakenUpload[] = [];
  const out: Landed[] = [];
  try {
    for (const id of ids) {
      const u = await uploads.take(id, deviceId);
      if (!u)
        throw new CommandError('not_found', `The attachment ${id} was not found or was already used. Upload it again.`);
      taken.push(u);
    }
    const inbox = path.join(workspace, 'inbox');
    const made = await fs.mkdir(inbox, { recursive: true, mode: 0o700 });
    if (made) {
      await fsyncDir(path.dirname(made));
      if (made !== inbox) await fsyncDir(workspace);
    }
    // A link left in its place (by a command, a cloned repository) would take the files elsewhere.
    const [st, real, realWorkspace] = await Promise.all([fs.lstat(inbox), fs.realpath(inbox), fs.realpath(workspace)]);
    if (!st.isDirectory() || real !== path.join(realWorkspace, 'inbox'))
      throw new CommandError(
        'conflict',
        `${inbox} is not a folder of its own (it is a link or a file), so the attachment was not put there. Rename or remove it on the computer, then send again.`,
      );
    for (const u of taken) {
      const target = await landOne(u, inbox, uploads);
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
    // The new names are durable before the record that points at them.
    await fsyncDir(inbox);
  } catch (err) {
    for (const u of taken) uploads.release(u.id);
    throw err;
  }
  uploads.settleAfterCommit(taken.map((u) => u.id));
  return out;
}

/** The user message content for the model: the text, where the files are, and images as images. */
export async function userContent(text: string, landed: Landed[]): Promise<Array<TextBlock | ImageBlock>> {
  if (!landed.length) return [{ type: 'text', text }];
  const lines: string[] = [];
  const images: ImageBlock[] = [];
  for (const l of landed) {
    let line = `- ${l.file} (${l.attachment.mediaType}, ${l.attachment.size} bytes)`;
    if (IMAGE_TYPES.has(l.attachment.mediaType) && l.attachment.size <= MAX_IMAGE_BYTES) {
      const bytes = await fs.readFile(l.file);
      // Sent as an image only if it is one (by its bytes, as what it really is): the API refuses a
      // request with an image it cannot read, and the image would go with every later request.
      const mediaType = sniffImage(bytes);
      if (mediaType)
        images.push({
          type: 'image',
          source: { type: 'base64', media_type: mediaType, data: bytes.toString('base64') },
        });
      else line += ` — not shown as an image: ${NOT_AN_IMAGE}`;
    }
    lines.push(line);
  }
  return [
    { type: 'text', text: `${text}\n\nAttached files (saved on this computer):\n${lines.join('\n')}` },
    ...images,
  ];
}

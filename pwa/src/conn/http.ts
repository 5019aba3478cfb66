// The plain HTTP endpoints: pairing, upload, download. Always the app's own origin, and the token
// only ever travels in the Authorization header.
import { authStore } from '../state/app.js';
import { loadValidation } from './connection.js';
import { CommandFailed } from './types.js';

function authHeader(): Record<string, string> {
  const a = authStore.get();
  if (!a) throw new CommandFailed('unpaired', 'This device is not paired.');
  return { Authorization: `Bearer ${a.token}` };
}

export type ClaimResult =
  | { ok: true; deviceId: string; token: string; hostName: string }
  | { ok: false; kind: 'code_invalid' | 'denied' | 'timeout' | 'rate_limited' | 'network' | 'other'; message: string };

/** Which computer a pairing code belongs to, asked before claiming; undefined when it cannot say. */
export async function peekPairing(code: string, signal?: AbortSignal): Promise<string | undefined> {
  try {
    const res = await fetch('/api/pair/peek', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ code }),
      signal,
      credentials: 'omit',
    });
    if (!res.ok) return undefined;
    const body = (await res.json()) as { hostName?: unknown };
    // Shown as text only (never as markup), and kept short.
    return typeof body.hostName === 'string' && body.hostName.trim() ? body.hostName.trim().slice(0, 80) : undefined;
  } catch {
    return undefined;
  }
}

export async function claimPairing(code: string, name: string, signal?: AbortSignal): Promise<ClaimResult> {
  const v = await loadValidation();
  let res: Response;
  try {
    res = await fetch('/api/pair/claim', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ code, name }),
      signal,
      credentials: 'omit',
    });
  } catch {
    return {
      ok: false,
      kind: 'network',
      message: "Can't reach your computer. Is Errand running, and is this phone on the same network?",
    };
  }
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    body = undefined;
  }
  if (res.ok) {
    const p = v.PairClaimResponse.safeParse(body);
    if (p.success) return { ok: true, ...p.data };
    return { ok: false, kind: 'other', message: 'Your computer answered with something this app cannot read.' };
  }
  const msg =
    body && typeof body === 'object' && typeof (body as { message?: unknown }).message === 'string'
      ? (body as { message: string }).message
      : '';
  if (res.status === 404)
    return { ok: false, kind: 'code_invalid', message: msg || 'This pairing code was already used or has expired.' };
  if (res.status === 403) return { ok: false, kind: 'denied', message: msg || 'Pairing was denied on your computer.' };
  if (res.status === 408)
    return { ok: false, kind: 'timeout', message: msg || 'Nobody approved the pairing on your computer in time.' };
  if (res.status === 429)
    return { ok: false, kind: 'rate_limited', message: msg || 'Too many attempts. Wait a minute and try again.' };
  return { ok: false, kind: 'other', message: msg || `Pairing failed (HTTP ${res.status}).` };
}

export async function upload(
  blob: Blob,
  name: string,
  type: string,
): Promise<{ id: string; name: string; size: number; mediaType: string }> {
  const v = await loadValidation();
  let res: Response;
  try {
    res = await fetch('/api/upload', {
      method: 'POST',
      headers: {
        ...authHeader(),
        'X-Filename': encodeURIComponent(name),
        'Content-Type': type || 'application/octet-stream',
      },
      body: blob,
      credentials: 'omit',
    });
  } catch {
    throw new CommandFailed('offline', "Can't reach your computer to upload the file.");
  }
  const body: unknown = await res.json().catch(() => undefined);
  if (!res.ok) {
    const msg = (body as { message?: string } | undefined)?.message ?? `Upload failed (HTTP ${res.status}).`;
    throw new CommandFailed(res.status === 429 || res.status >= 500 ? 'upload_unavailable' : 'upload_refused', msg);
  }
  const p = v.UploadResponse.safeParse(body);
  if (!p.success) throw new CommandFailed('bad_response', 'The upload reply could not be read.');
  return p.data;
}

/** Download a task's file with the token in a header, then hand it to the browser as a file. */
export async function download(taskId: string, path: string, name: string): Promise<void> {
  const qs = new URLSearchParams({ task: taskId, path });
  const res = await fetch(`/api/file?${qs}`, { headers: authHeader(), credentials: 'omit' });
  if (!res.ok) throw new CommandFailed('download_failed', `Download failed (HTTP ${res.status}).`);
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 30_000);
}

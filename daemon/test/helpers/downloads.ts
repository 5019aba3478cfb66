// GET /api/file as a phone makes it, left unread: for tests of how the daemon bounds downloads.
import http from 'node:http';
import type { Transform } from 'node:stream';

export interface StartedDownload {
  status: number;
  res: http.IncomingMessage;
  req: http.ClientRequest;
}

/** Starts a download of `file` (one task `taskId` touched) and resolves at its status line, leaving the body unread. */
export function startDownload(url: string, token: string, taskId: string, file: string): Promise<StartedDownload> {
  const query = `task=${encodeURIComponent(taskId)}&path=${encodeURIComponent(file)}`;
  return new Promise((resolve, reject) => {
    const req = http.get(`${url}/api/file?${query}`, { headers: { authorization: `Bearer ${token}` }, agent: false });
    req.on('response', (res) => resolve({ status: res.statusCode ?? 0, res, req }));
    req.on('error', reject);
  });
}

/** Runs `chunks` through a download's secret guard: the error it failed with, if any, and what it let out. */
export async function throughGuard(guard: Transform, chunks: Buffer[]): Promise<{ error?: Error; sent: string }> {
  const out: Buffer[] = [];
  guard.on('data', (c: Buffer) => out.push(c));
  const ended = new Promise<Error | undefined>((resolve) => {
    guard.on('error', resolve);
    guard.on('end', () => resolve(undefined));
  });
  for (const c of chunks) guard.write(c);
  guard.end();
  return { error: await ended, sent: Buffer.concat(out).toString('latin1') };
}

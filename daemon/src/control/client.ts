// The CLI's end of the control channel.
import net from 'node:net';
import type { ControlMessage, ControlMethod, ControlParams, ControlProgress, ControlResult } from './protocol.js';

export class DaemonNotRunningError extends Error {
  constructor(socketPath: string) {
    super(`No Errand daemon is running for this home folder (${socketPath}); start it with \`errand start\`.`);
  }
}

export interface ControlCallOptions<M extends ControlMethod = ControlMethod> {
  onProgress?: (value: ControlProgress<M>) => void;
  timeoutMs?: number;
}

/** Call a control method; the answer is typed by ControlMethods (the daemon's handler is bound to it). */
export async function controlCall<M extends ControlMethod>(
  socketPath: string,
  method: M,
  params: ControlParams<M> = {} as ControlParams<M>,
  opts: ControlCallOptions<M> = {},
): Promise<ControlResult<M>> {
  const socket = await new Promise<net.Socket>((resolve, reject) => {
    const s = net.createConnection(socketPath);
    s.once('connect', () => resolve(s));
    s.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        ['ENOENT', 'ECONNREFUSED', 'ENOTSOCK'].includes(err.code ?? '') ? new DaemonNotRunningError(socketPath) : err,
      );
    });
  });
  return new Promise((resolve, reject) => {
    let buffer = '';
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          socket.destroy();
          reject(new Error(`The daemon did not answer "${method}" in time.`));
        }, opts.timeoutMs)
      : undefined;
    const finish = (fn: () => void) => {
      if (timer) clearTimeout(timer);
      socket.end();
      fn();
    };
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const msg = JSON.parse(buffer.slice(0, nl)) as ControlMessage;
        buffer = buffer.slice(nl + 1);
        if ('progress' in msg) opts.onProgress?.(msg.progress as ControlProgress<M>);
        else if (msg.ok) finish(() => resolve(msg.result as ControlResult<M>));
        else finish(() => reject(new Error(msg.error)));
      }
    });
    socket.on('close', () => {
      if (timer) clearTimeout(timer);
      reject(new Error('The daemon closed the control connection.'));
    });
    socket.write(JSON.stringify({ id: 1, method, params }) + '\n');
  });
}

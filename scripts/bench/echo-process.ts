// A plain `ws` echo server in a Node process of its own: the floor a command through the daemon is
// compared with. With `durableTo` (a file) it first appends each message to that file and
// fdatasyncs it, as the daemon makes a command durable before replying: what any server that keeps
// its promise costs on this machine, with nothing else done.
import { spawn } from 'node:child_process';
import { PROJECT_ROOT } from '../../daemon/src/util/project-root.js';

const SERVER = `
const fs = require('node:fs');
const { WebSocketServer } = require('ws');
const file = process.argv[1];
const fd = file ? fs.openSync(file, 'a') : undefined;
const s = new WebSocketServer({ port: 0, host: '127.0.0.1' });
s.on('listening', () => process.stdout.write(s.address().port + '\\n'));
s.on('connection', (c) => c.on('message', (d) => {
  const text = d.toString();
  if (fd === undefined) return c.send(text);
  fs.writeSync(fd, text);
  fs.fdatasync(fd, (err) => (err ? process.exit(1) : c.send(text)));
}));`;

export interface EchoProcess {
  port: number;
  stop(): Promise<void>;
}

export async function startEchoProcess(durableTo?: string): Promise<EchoProcess> {
  const child = spawn(process.execPath, ['-e', SERVER, ...(durableTo ? [durableTo] : [])], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the echo server exited (${code})`)));
    child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
  });
  return {
    port,
    stop: async () => {
      if (child.exitCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await gone;
    },
  };
}

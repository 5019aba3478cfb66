// Which program listens on a TCP port of this computer, so "port 7345 is in use" can name it. Linux
// only: the listening socket's inode from /proc/net/tcp and tcp6, then the process that has that
// socket open among /proc/<pid>/fd. Bounded (a machine with very many open files is not read to
// the end), and silent when it cannot tell: not Linux, another user's process (its fd folder is
// not readable; the socket's owner is still known), /proc mounted with hidepid.
import fs from 'node:fs';

export interface PortHolder {
  /** The user id owning the listening socket. */
  uid: number;
  /** The process holding it, when this user may look into it. */
  pid?: number;
  /** Its name as the system shows it (/proc/<pid>/comm: at most 15 characters, chosen by the program). */
  name?: string;
}

/** TCP state 0A: LISTEN. */
const LISTEN = '0A';

export interface PortHolderLimits {
  /** Open files looked at, at most. */
  maxFds: number;
  /** Time spent looking, at most. */
  maxMs: number;
}

const LIMITS: PortHolderLimits = { maxFds: 100_000, maxMs: 500 };

export function portHolder(port: number, limits: PortHolderLimits = LIMITS): PortHolder | undefined {
  if (process.platform !== 'linux') return undefined;
  const listening = listeningSockets(port);
  if (listening.size === 0) return undefined;
  const uid = [...listening.values()][0];
  const found = processWithSocket(new Set(listening.keys()), limits);
  return found ? { uid, ...found } : { uid };
}

/** The inodes (and their owners' uids) of the sockets listening on `port`, IPv4 and IPv6. */
function listeningSockets(port: number): Map<string, number> {
  const found = new Map<string, number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = fs.readFileSync(table, 'utf8');
    } catch {
      continue; // no IPv6, or no /proc
    }
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode …
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== LISTEN) continue;
      const localPort = Number.parseInt(f[1].slice(f[1].lastIndexOf(':') + 1), 16);
      if (localPort === port && f[9] !== '0') found.set(f[9], Number(f[7]));
    }
  }
  return found;
}

/** The first process with one of these sockets open, within the limits. */
function processWithSocket(inodes: Set<string>, limits: PortHolderLimits): { pid: number; name?: string } | undefined {
  const wanted = new Set([...inodes].map((i) => `socket:[${i}]`));
  const deadline = Date.now() + limits.maxMs;
  let looked = 0;
  let pids: string[];
  try {
    pids = fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n));
  } catch {
    return undefined;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // another user's, or gone meanwhile
    }
    for (const fd of fds) {
      if (++looked > limits.maxFds || Date.now() > deadline) return undefined;
      let target: string;
      try {
        target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      if (wanted.has(target)) return { pid: Number(pid), name: processName(pid) };
    }
  }
  return undefined;
}

function processName(pid: string): string | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

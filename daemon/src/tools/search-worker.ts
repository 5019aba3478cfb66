// fs_search's matching runs off the main thread. JavaScript regular expressions backtrack: a pattern
// such as ^(a|a)*$ takes exponential time on a line of a few dozen characters, and even a long plain
// string can take O(line x query) on a crafted file. On the daemon's event loop that froze every
// socket, approval and task. Here the lines are matched in one worker thread, started when a search
// first needs it and kept for the next ones; a batch that takes longer than its budget has the
// worker terminated (a new one starts for the next search) and the search ends with a clear error.
import { Worker } from 'node:worker_threads';

/** One batch: the files' texts, the pattern, and how many matching lines to return at most. */
interface MatchRequest {
  id: number;
  source: string;
  flags: string;
  /** Match only the first 2,000 characters of each line (regular expressions). */
  clipLines: boolean;
  texts: string[];
  max: number;
}

/** Matching lines per file, in order: [line index, line]; `max` lines in all at most. */
export interface MatchReply {
  id: number;
  hits: Array<Array<[number, string]>>;
  error?: string;
}

/**
 * The worker's whole program. It runs from its source text (Worker with eval), so it works the
 * same from the TypeScript sources (tests), the compiled files and the bundle, which has no
 * separate file to point a Worker at. It must not use anything from outside its own body.
 */
function workerMain(): void {
  // An eval worker is a CommonJS script: require, not import.
  const { parentPort } = require('node:worker_threads') as typeof import('node:worker_threads');
  let cached: { key: string; re: RegExp } | undefined;
  parentPort!.on('message', (req: MatchRequest) => {
    try {
      const key = `${req.flags}/${req.source}`;
      if (cached?.key !== key) cached = { key, re: new RegExp(req.source, req.flags) };
      const re = cached.re;
      const hits: Array<Array<[number, string]>> = [];
      let left = req.max;
      for (const text of req.texts) {
        const found: Array<[number, string]> = [];
        hits.push(found);
        if (left <= 0) continue;
        const lines = text.split(/\r?\n/);
        for (let i = 0; i < lines.length && left > 0; i++) {
          if (re.test(req.clipLines ? lines[i].slice(0, 2000) : lines[i])) {
            found.push([i, lines[i]]);
            left--;
          }
        }
      }
      parentPort!.postMessage({ id: req.id, hits } satisfies MatchReply);
    } catch (err) {
      parentPort!.postMessage({ id: req.id, hits: [], error: String((err as Error)?.message ?? err) });
    }
  });
}

const WORKER_SOURCE = `(${workerMain.toString()})();`;

/** A batch that takes longer than this has its worker terminated. */
export const MATCH_BUDGET_MS = 3_000;
/** An idle worker is ended after this (a new search starts one again in a few tens of ms). */
const IDLE_MS = 30_000;

export class MatchTimeout extends Error {}

interface Pending {
  req: Omit<MatchRequest, 'id'>;
  signal: AbortSignal;
  resolve: (r: MatchReply) => void;
  reject: (err: Error) => void;
  onAbort: () => void;
}

/**
 * The matching worker: one batch at a time (its time budget runs only while it is the worker's),
 * the others queue. A batch over budget, a cancelled one or a worker that died ends the worker;
 * the next batch starts a new one.
 */
class SearchMatcher {
  private worker: Worker | undefined;
  private queue: Pending[] = [];
  private current: { p: Pending; id: number; timer: NodeJS.Timeout } | undefined;
  private nextId = 0;
  private idle: NodeJS.Timeout | undefined;

  constructor(private readonly budgetMs: number) {}

  /** Match `texts` line by line; rejects with MatchTimeout when over budget, or when `signal` aborts. */
  match(req: Omit<MatchRequest, 'id'>, signal: AbortSignal): Promise<MatchReply> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(new Error('cancelled'));
      const p: Pending = {
        req,
        signal,
        resolve,
        reject,
        onAbort: () => {
          if (this.current?.p === p) this.fail(new Error('cancelled'));
          else {
            this.queue = this.queue.filter((q) => q !== p);
            reject(new Error('cancelled'));
          }
        },
      };
      signal.addEventListener('abort', p.onAbort, { once: true });
      this.queue.push(p);
      this.pump();
    });
  }

  private start(): Worker {
    const w = new Worker(WORKER_SOURCE, {
      eval: true,
      // Bounded like everything else: a worker that runs out of heap ends with an error, not the daemon.
      resourceLimits: { maxOldGenerationSizeMb: 256 },
    });
    w.unref();
    w.on('message', (reply: MatchReply) => {
      const c = this.current;
      if (w !== this.worker || !c || reply.id !== c.id) return;
      this.settle();
      c.p.resolve(reply);
      this.pump();
    });
    w.on('error', (err) => {
      if (w === this.worker) this.fail(new Error(`the search worker failed: ${err.message}`));
    });
    w.on('exit', () => {
      if (w === this.worker) this.fail(new Error('the search worker stopped'));
    });
    return w;
  }

  private pump(): void {
    if (this.current) return;
    const p = this.queue.shift();
    if (!p) {
      clearTimeout(this.idle);
      if (this.worker) this.idle = setTimeout(() => this.stop(), IDLE_MS).unref();
      return;
    }
    clearTimeout(this.idle);
    this.worker ??= this.start();
    const id = ++this.nextId;
    const timer = setTimeout(() => this.fail(new MatchTimeout(`over ${this.budgetMs} ms`)), this.budgetMs);
    this.current = { p, id, timer };
    this.worker.postMessage({ ...p.req, id } satisfies MatchRequest);
  }

  private settle(): void {
    const c = this.current;
    if (!c) return;
    this.current = undefined;
    clearTimeout(c.timer);
    c.p.signal.removeEventListener('abort', c.p.onAbort);
  }

  /** End the batch in progress with `err`, and its worker with it. */
  private fail(err: Error): void {
    const c = this.current;
    this.settle();
    this.stop();
    c?.p.reject(err);
    this.pump();
  }

  /** End the worker (the next batch starts a new one). */
  stop(): void {
    clearTimeout(this.idle);
    const w = this.worker;
    this.worker = undefined;
    if (w) void w.terminate().catch(() => undefined);
  }
}

/** The daemon's one matching worker. */
export const searchMatcher = new SearchMatcher(MATCH_BUDGET_MS);

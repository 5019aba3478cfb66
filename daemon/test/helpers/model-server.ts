// A scripted Anthropic Messages API on 127.0.0.1 for tests and benchmarks: it speaks the real SSE
// stream (message_start … message_stop, every event with its `event:` line), records every request,
// and can misbehave the ways the real one does (429 with retry-after, 529 mid-stream, 500, a hang,
// a stream broken mid-reply). Point the real @anthropic-ai/sdk at `url`.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

export type ScriptBlock =
  | { type: 'text'; text: string /** Sent as citations_delta events after the text. */; citations?: unknown[] }
  /**
   * A server tool block as the API streams it: `server_tool_use` (its input follows as
   * input_json_delta) or a result block (`web_search_tool_result`, `web_fetch_tool_result`, whole
   * in content_block_start).
   */
  | { type: 'server'; block: Record<string, unknown> & { type: string }; input?: unknown }
  /** Extended thinking: thinking_delta chunks then one signature_delta, as the API streams it. */
  | { type: 'thinking'; thinking: string; signature: string }
  /** A redacted thinking block: its encrypted data whole in content_block_start. */
  | { type: 'redacted_thinking'; data: string }
  | {
      type: 'tool_use';
      id?: string;
      name: string;
      input: unknown /** Sent as-is instead of JSON of `input` (e.g. cut off). */;
      rawJson?: string;
    };

export interface ScriptUsage {
  input_tokens?: number;
  output_tokens?: number;
  cache_read_input_tokens?: number;
  cache_creation_input_tokens?: number;
  server_tool_use?: { web_search_requests?: number; web_fetch_requests?: number };
}

export type ScriptReply =
  /** A normal streamed reply. stop_reason defaults to tool_use when a tool_use block is present, else end_turn. */
  | {
      kind?: 'message';
      content: ScriptBlock[];
      stopReason?: string;
      usage?: ScriptUsage;
      chunkDelayMs?: number;
      model?: string;
    }
  /** An HTTP error before any stream: 429/500/529…; retryAfter in seconds becomes a retry-after header. */
  | { kind: 'status'; status: number; retryAfter?: number; errorType?: string; message?: string }
  /** Starts streaming `partialText`, then sends an `event: error` (e.g. overloaded_error, as a 529 mid-stream). */
  | { kind: 'stream-error'; partialText?: string; errorType?: string; message?: string }
  /** Starts streaming `partialText`, then destroys the socket. */
  | { kind: 'break'; partialText?: string }
  /** Never answers; the request stays open until the client goes away or the server closes. */
  | { kind: 'hang'; afterHeaders?: boolean };

export interface RecordedRequest {
  body: any;
  headers: http.IncomingHttpHeaders;
  /** Date.now() when the request body arrived. */
  at: number;
  /** performance.now() when the request arrived and when its answer ended (benchmarks). */
  arrivedHr: number;
  answeredHr?: number;
}

export type Script = ScriptReply[] | ((req: RecordedRequest, index: number) => ScriptReply | Promise<ScriptReply>);

export interface ModelServer {
  url: string;
  requests: RecordedRequest[];
  /** Replace or extend the script (a queue is consumed front to back). */
  push(...replies: ScriptReply[]): void;
  setScript(script: Script): void;
  /** Resolves when `n` requests have arrived. */
  waitForRequests(n: number, timeoutMs?: number): Promise<void>;
  /** Requests currently held open (hang). */
  openRequests(): number;
  close(): Promise<void>;
}

export const text = (t: string): ScriptBlock => ({ type: 'text', text: t });
export const toolUse = (name: string, input: unknown, id?: string): ScriptBlock => ({
  type: 'tool_use',
  name,
  input,
  ...(id ? { id } : {}),
});
export const reply = (...content: ScriptBlock[]): ScriptReply => ({ content });

let idCounter = 0;
const nextId = (prefix: string) => `${prefix}${Date.now().toString(36)}${(++idCounter).toString(36)}`;

function sse(res: http.ServerResponse, event: string, data: unknown): void {
  res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

function chunks(s: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < s.length; i += size) out.push(s.slice(i, i + size));
  return out.length ? out : [''];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startModelServer(script: Script = []): Promise<ModelServer> {
  let current: Script = script;
  const requests: RecordedRequest[] = [];
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const open = new Set<http.ServerResponse>();
  const sockets = new Set<import('node:net').Socket>();

  const nextReply = async (req: RecordedRequest, index: number): Promise<ScriptReply> => {
    if (typeof current === 'function') return current(req, index);
    const r = current.shift();
    return r ?? { kind: 'status', status: 500, errorType: 'api_error', message: 'model-server: script exhausted' };
  };

  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      void (async () => {
        let body: any;
        try {
          body = JSON.parse(Buffer.concat(parts).toString('utf8'));
        } catch {
          body = undefined;
        }
        const rec: RecordedRequest = { body, headers: req.headers, at: Date.now(), arrivedHr: performance.now() };
        res.on('finish', () => {
          rec.answeredHr = performance.now();
        });
        const index = requests.push(rec) - 1;
        for (const w of [...waiters])
          if (requests.length >= w.n) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve();
          }
        if (req.method !== 'POST' || !req.url?.startsWith('/v1/messages')) {
          res
            .writeHead(404, { 'content-type': 'application/json' })
            .end(JSON.stringify({ type: 'error', error: { type: 'not_found_error', message: 'not found' } }));
          return;
        }
        const r = await nextReply(rec, index);
        await answer(r, body, res);
      })().catch((err) => {
        res.destroy(err as Error);
      });
    });
  });

  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  async function answer(r: ScriptReply, body: any, res: http.ServerResponse): Promise<void> {
    if (r.kind === 'status') {
      const headers: Record<string, string> = { 'content-type': 'application/json', 'request-id': nextId('req_') };
      if (r.retryAfter !== undefined) headers['retry-after'] = String(r.retryAfter);
      res.writeHead(r.status, headers).end(
        JSON.stringify({
          type: 'error',
          error: {
            type:
              r.errorType ??
              (r.status === 429 ? 'rate_limit_error' : r.status === 529 ? 'overloaded_error' : 'api_error'),
            message: r.message ?? `scripted ${r.status}`,
          },
        }),
      );
      return;
    }
    if (r.kind === 'hang') {
      open.add(res);
      res.on('close', () => open.delete(res));
      if (r.afterHeaders) res.writeHead(200, { 'content-type': 'text/event-stream' }).flushHeaders();
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      'request-id': nextId('req_'),
    });
    const model = (r.kind === undefined || r.kind === 'message') && r.model ? r.model : (body?.model ?? 'claude-test');
    const usage: ScriptUsage = r.kind === undefined || r.kind === 'message' ? (r.usage ?? {}) : {};
    const promptTokens = usage.input_tokens ?? 10;
    sse(res, 'message_start', {
      type: 'message_start',
      message: {
        id: nextId('msg_'),
        type: 'message',
        role: 'assistant',
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: {
          input_tokens: promptTokens,
          output_tokens: 1,
          cache_read_input_tokens: usage.cache_read_input_tokens ?? 0,
          cache_creation_input_tokens: usage.cache_creation_input_tokens ?? 0,
        },
      },
    });
    if (r.kind === 'stream-error' || r.kind === 'break') {
      if (r.partialText) {
        sse(res, 'content_block_start', {
          type: 'content_block_start',
          index: 0,
          content_block: { type: 'text', text: '' },
        });
        for (const c of chunks(r.partialText, 4))
          sse(res, 'content_block_delta', {
            type: 'content_block_delta',
            index: 0,
            delta: { type: 'text_delta', text: c },
          });
      }
      await sleep(20);
      if (r.kind === 'break') {
        res.socket?.destroy();
        return;
      }
      sse(res, 'error', {
        type: 'error',
        error: { type: r.errorType ?? 'overloaded_error', message: r.message ?? 'Overloaded' },
      });
      res.end();
      return;
    }
    const delay = r.chunkDelayMs ?? 0;
    let outTokens = 0;
    for (const [index, block] of r.content.entries()) {
      if (block.type === 'text') {
        sse(res, 'content_block_start', {
          type: 'content_block_start',
          index,
          content_block: { type: 'text', text: '' },
        });
        for (const c of chunks(block.text, 4)) {
          sse(res, 'content_block_delta', {
            type: 'content_block_delta',
            index,
            delta: { type: 'text_delta', text: c },
          });
          outTokens++;
          if (delay) await sleep(delay);
        }
        for (const citation of block.citations ?? [])
          sse(res, 'content_block_delta', {
            type: 'content_block_delta',
            index,
            delta: { type: 'citations_delta', citation },
          });
      } else if (block.type === 'thinking') {
        sse(res, 'content_block_start', {
          type: 'content_block_start',
          index,
          content_block: { type: 'thinking', thinking: '', signature: '' },
        });
        for (const c of chunks(block.thinking, 5)) {
          sse(res, 'content_block_delta', {
            type: 'content_block_delta',
            index,
            delta: { type: 'thinking_delta', thinking: c },
          });
          outTokens++;
          if (delay) await sleep(delay);
        }
        sse(res, 'content_block_delta', {
          type: 'content_block_delta',
          index,
          delta: { type: 'signature_delta', signature: block.signature },
        });
      } else if (block.type === 'redacted_thinking') {
        sse(res, 'content_block_start', {
          type: 'content_block_start',
          index,
          content_block: { type: 'redacted_thinking', data: block.data },
        });
      } else if (block.type === 'server') {
        const start = block.block.type === 'server_tool_use' ? { ...block.block, input: {} } : block.block;
        sse(res, 'content_block_start', { type: 'content_block_start', index, content_block: start });
        if (block.block.type === 'server_tool_use')
          for (const c of chunks(JSON.stringify(block.input ?? {}), 7))
            sse(res, 'content_block_delta', {
              type: 'content_block_delta',
              index,
              delta: { type: 'input_json_delta', partial_json: c },
            });
      } else {
        const id = block.id ?? nextId('toolu_');
        sse(res, 'content_block_start', {
          type: 'content_block_start',
          index,
          content_block: { type: 'tool_use', id, name: block.name, input: {} },
        });
        for (const c of chunks(block.rawJson ?? JSON.stringify(block.input ?? {}), 7)) {
          sse(res, 'content_block_delta', {
            type: 'content_block_delta',
            index,
            delta: { type: 'input_json_delta', partial_json: c },
          });
          outTokens++;
          if (delay) await sleep(delay);
        }
      }
      sse(res, 'content_block_stop', { type: 'content_block_stop', index });
    }
    const stopReason = r.stopReason ?? (r.content.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn');
    sse(res, 'message_delta', {
      type: 'message_delta',
      delta: { stop_reason: stopReason, stop_sequence: null },
      usage: {
        input_tokens: promptTokens,
        output_tokens: usage.output_tokens ?? Math.max(1, outTokens),
        cache_read_input_tokens: usage.cache_read_input_tokens ?? 0,
        cache_creation_input_tokens: usage.cache_creation_input_tokens ?? 0,
        ...(usage.server_tool_use ? { server_tool_use: usage.server_tool_use } : {}),
      },
    });
    sse(res, 'message_stop', { type: 'message_stop' });
    res.end();
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    push(...replies) {
      if (typeof current === 'function') current = [];
      current.push(...replies);
    },
    setScript(s) {
      current = s;
    },
    waitForRequests(n, timeoutMs = 10_000) {
      if (requests.length >= n) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const w = {
          n,
          resolve: () => {
            clearTimeout(t);
            resolve();
          },
        };
        const t = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          reject(new Error(`model-server: ${requests.length} of ${n} requests after ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.push(w);
      });
    },
    openRequests: () => open.size,
    async close() {
      for (const res of open) res.destroy();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// The model client's fetch on node:http: what the SDK relies on from fetch (bytes sent as given,
// headers, streamed bodies, abort before and after the headers, connection failures shaped like
// the built-in fetch's), against a real server on loopback.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpFetch } from '../../src/agent/http-fetch.js';
import { encodeModelRequest } from '../../src/agent/request-body.js';

interface Seen {
  method?: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

let server: http.Server;
let base: string;
const seen: Seen[] = [];
const held: http.ServerResponse[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      if (req.url === '/empty') {
        res.writeHead(204, [
          ['set-cookie', 'a=1'],
          ['set-cookie', 'b=2'],
        ]);
        return res.end();
      }
      if (req.url === '/hold') return void held.push(res);
      if (req.url === '/redirect') {
        res.writeHead(307, { location: '/echo' });
        return res.end();
      }
      if (req.url === '/odd-status') {
        // A status no fetch Response can carry: written raw, as a broken server or proxy might.
        req.socket.end('HTTP/1.1 600 Odd\r\ncontent-length: 0\r\n\r\n');
        return;
      }
      if (req.url === '/cut') {
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '1000' });
        res.write('only part of it');
        setImmediate(() => res.socket?.destroy());
        return;
      }
      if (req.url === '/half') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('first part ');
        return void held.push(res);
      }
      if (req.url === '/sse-half' || req.url === '/sse-cut') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('event: ping\ndata: {"type":"ping"}\n\n');
        if (req.url === '/sse-cut') setImmediate(() => res.socket?.destroy());
        else held.push(res);
        return;
      }
      if (req.url === '/sse-whole') {
        res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
        return res.end('data: {"caf\u00e9":1}');
      }
      if (req.url === '/v1/messages') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const events = [
          {
            type: 'message_start',
            message: {
              id: 'msg_1',
              type: 'message',
              role: 'assistant',
              model: 'm',
              content: [],
              stop_reason: null,
              stop_sequence: null,
              usage: { input_tokens: 1, output_tokens: 0 },
            },
          },
          { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
          { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hello there' } },
          { type: 'content_block_stop', index: 0 },
          {
            type: 'message_delta',
            delta: { stop_reason: 'end_turn', stop_sequence: null },
            usage: { output_tokens: 2 },
          },
          { type: 'message_stop' },
        ];
        for (const e of events) res.write(`event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
        return res.end();
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ echoed: Buffer.concat(chunks).length }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const res of held) res.destroy();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('httpFetch', () => {
  it('carries the SDK: the pooled body arrives byte for byte, headers pass, the reply streams', async () => {
    const client = new Anthropic({ apiKey: 'sk-test-key', baseURL: base, maxRetries: 0, fetch: httpFetch });
    const params = {
      model: 'm',
      max_tokens: 100,
      messages: [{ role: 'user' as const, content: `caf\u00e9 \ud83d\udcc4 ${'x'.repeat(300_000)}` }],
    };
    const message = await client.messages
      .stream(params, {
        body: encodeModelRequest({ ...params, stream: true }),
        headers: { 'content-type': 'application/json' },
      })
      .finalMessage();
    expect(message.content).toEqual(
      [{ type: 'text', text: 'Hello there', citations: undefined }].map(({ citations: _c, ...b }) =>
        expect.objectContaining(b),
      ),
    );
    const request = seen.at(-1) as Seen;
    expect(request.body).toBe(JSON.stringify({ ...params, stream: true }));
    expect(request.headers.authorization ?? request.headers['x-api-key']).toContain('sk-test-key');
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['content-length']).toBe(String(Buffer.byteLength(request.body)));
  });

  it('sends a string body as UTF-8 and reads a JSON reply', async () => {
    const res = await httpFetch(`${base}/echo`, {
      method: 'POST',
      body: '{"a":"\u00e9\u2026"}',
      headers: { 'x-one': '1' },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ echoed: Buffer.byteLength('{"a":"\u00e9\u2026"}') });
    expect(seen.at(-1)?.headers['x-one']).toBe('1');
  });

  it('gives a 204 no body and keeps repeated headers', async () => {
    const res = await httpFetch(`${base}/empty`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(204);
    expect(res.body).toBeNull();
    expect(res.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
  });

  it('rejects with an AbortError when aborted before the headers, and when already aborted', async () => {
    const controller = new AbortController();
    const pending = httpFetch(`${base}/hold`, { method: 'POST', body: '{}', signal: controller.signal });
    await expect.poll(() => held.length).toBeGreaterThan(0);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    await expect(httpFetch(`${base}/echo`, { signal: AbortSignal.abort() })).rejects.toMatchObject({
      name: 'AbortError',
    });
  });

  it('ends the body with an AbortError when aborted after the headers', async () => {
    const controller = new AbortController();
    const res = await httpFetch(`${base}/half`, { method: 'POST', body: '{}', signal: controller.signal });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    expect(Buffer.from(first.value as Uint8Array).toString()).toBe('first part ');
    controller.abort();
    await expect(reader.read()).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('streams an event-stream body, ended by an abort or a cut as the built-in fetch would end it', async () => {
    const controller = new AbortController();
    const res = await httpFetch(`${base}/sse-half`, { method: 'POST', body: '{}', signal: controller.signal });
    const chunks = (res.body as unknown as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    const first = await chunks.next();
    expect(Buffer.from(first.value as Uint8Array).toString()).toContain('ping');
    controller.abort();
    await expect(chunks.next()).rejects.toMatchObject({ name: 'AbortError' });

    const cut = await httpFetch(`${base}/sse-cut`, { method: 'POST', body: '{}' });
    await expect(
      (async () => {
        for await (const _ of cut.body as unknown as AsyncIterable<Uint8Array>);
      })(),
    ).rejects.toThrow();
  });

  it('an event-stream body still reads as a web stream and whole', async () => {
    const viaReader = await httpFetch(`${base}/sse-whole`, { method: 'POST', body: '{}' });
    const reader = (viaReader.body as ReadableStream<Uint8Array>).getReader();
    const parts: Uint8Array[] = [];
    for (let r = await reader.read(); !r.done; r = await reader.read()) parts.push(r.value);
    expect(Buffer.concat(parts).toString()).toBe('data: {"caf\u00e9":1}');
    expect(await (await httpFetch(`${base}/sse-whole`, { method: 'POST', body: '{}' })).text()).toBe(
      'data: {"caf\u00e9":1}',
    );
  });

  it('an SDK stream aborted or cut mid-reply ends as it does on the built-in fetch', async () => {
    /** How the SDK's event stream ends on `route` (aborted after its first event if asked). */
    const ending = async (fetchImpl: typeof fetch, route: string, abort: boolean) => {
      const client = new Anthropic({ apiKey: 'k', baseURL: `${base}/${route}#`, maxRetries: 0, fetch: fetchImpl });
      const controller = new AbortController();
      const heldBefore = held.length;
      const stream = await client.messages.create(
        { model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }], stream: true },
        { signal: controller.signal },
      );
      const events = stream[Symbol.asyncIterator]();
      const pending = events.next();
      if (abort) {
        expect(held.length).toBeGreaterThan(heldBefore); // the reply has begun and is held open
        controller.abort();
      }
      return pending.then(
        (r) => `ended: done ${r.done}`,
        (e: Error) => `failed: ${e.constructor.name} ${e.message}`,
      );
    };
    for (const [route, abort] of [
      ['sse-half', true],
      ['sse-cut', false],
    ] as const) {
      const builtIn = await ending(fetch, route, abort);
      expect(await ending(httpFetch, route, abort)).toBe(builtIn);
    }
  });

  it('does not follow a redirect (it would carry the API key elsewhere)', async () => {
    const before = seen.length;
    const res = await httpFetch(`${base}/redirect`, { method: 'POST', body: '{}', headers: { 'x-api-key': 'k' } });
    expect(res.status).toBe(307);
    expect(res.headers.get('location')).toBe('/echo');
    expect(seen.length).toBe(before + 1);
  });

  it('fails as a connection error on a status no response can have, and the process lives on', async () => {
    const failure = await httpFetch(`${base}/odd-status`, { method: 'POST', body: '{}' }).catch((e) => e);
    expect(failure).toBeInstanceOf(TypeError);
    expect(failure.message).toBe('fetch failed');
    expect(failure.cause).toBeInstanceOf(RangeError);
  });

  it('errors the body stream when the connection is cut mid-body', async () => {
    const res = await httpFetch(`${base}/cut`, { method: 'POST', body: '{}' });
    await expect(res.text()).rejects.toThrow();
  });

  it('keeps the connection between calls and closes it once idle for a few seconds', async () => {
    const own = http.createServer((_req, res) => res.end('{}'));
    own.keepAliveTimeout = 60_000; // only the client's idle timeout may close the connection
    const sockets: import('node:net').Socket[] = [];
    own.on('connection', (socket) => sockets.push(socket));
    await new Promise<void>((r) => own.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(own.address() as AddressInfo).port}/`;
    try {
      await (await httpFetch(url, { method: 'POST', body: '{}' })).json();
      await (await httpFetch(url, { method: 'POST', body: '{}' })).json();
      expect(sockets).toHaveLength(1); // the second call reused the first connection
      const [socket] = sockets;
      await new Promise((resolve) => (socket.destroyed ? resolve(undefined) : socket.once('close', resolve)));
    } finally {
      own.closeAllConnections();
      await new Promise((r) => own.close(r));
    }
  }, 15_000);

  it('fails like the built-in fetch when nothing listens, which the SDK calls a connection error', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const failure = await httpFetch(`http://127.0.0.1:${port}/x`, { method: 'POST', body: '{}' }).catch((e) => e);
    expect(failure).toBeInstanceOf(TypeError);
    expect(failure.message).toBe('fetch failed');
    expect(failure.cause.code).toBe('ECONNREFUSED');
    const client = new Anthropic({ apiKey: 'k', baseURL: `http://127.0.0.1:${port}`, maxRetries: 0, fetch: httpFetch });
    await expect(client.messages.create({ model: 'm', max_tokens: 1, messages: [] })).rejects.toBeInstanceOf(
      Anthropic.APIConnectionError,
    );
  });
});

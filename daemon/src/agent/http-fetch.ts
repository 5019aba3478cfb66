// The model client's fetch: node:http(s) writing the request body straight to the socket.
// Node's built-in fetch (undici) copies a body twice before it leaves (encoded, then cloned into a
// web stream). An agent's request carries the whole conversation, often near a megabyte, every
// turn, so those copies and the collections they caused were much of the daemon's time per turn.
// Here the bytes (request-body.ts) are written as they are and their buffer goes back to the pool
// once written; a string is encoded once. Other bodies (forms, streams) go to the built-in fetch.
import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import { releaseJsonBody } from './request-body.js';

// Connections are kept between calls; an idle one is closed after 4 s (or the server's keep-alive
// hint, if shorter), as the built-in fetch does: one kept longer may have been dropped on the way
// (a NAT, a proxy), and the next call on it would fail. Only idle connections time out.
const keep = { keepAlive: true, timeout: 4_000 };
const agents = { 'http:': new http.Agent(keep), 'https:': new https.Agent(keep) };

/** Statuses whose response has no body: a Response refuses one. */
const NO_BODY = new Set([101, 103, 204, 205, 304]);

/** The chunks of `res`; a cut connection fails as the built-in fetch's body does, TypeError('terminated'). */
async function* chunksOf(res: http.IncomingMessage): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of res) yield chunk;
  } catch (err) {
    throw (err as Error).name === 'AbortError' ? err : new TypeError('terminated', { cause: err });
  }
}

/**
 * A streamed reply's body (server-sent events, as every model call gets). The SDK reads a body as an
 * async iterable when it is one, so it gets the Node stream itself: in Node 20 a web stream on it
 * costs more than a short reply it carries. What asks for a reader (or to pipe, tee or cancel) gets a
 * web stream made then, so the body still works as a ReadableStream.
 */
function streamedBody(res: http.IncomingMessage): ReadableStream<Uint8Array> {
  let web: ReadableStream<Uint8Array> | undefined;
  const asWeb = () => {
    web ??= Readable.toWeb(res) as ReadableStream<Uint8Array>;
    return web;
  };
  const body = {
    [Symbol.asyncIterator]: () => (web ? web[Symbol.asyncIterator]() : chunksOf(res)),
    get locked() {
      return web?.locked ?? false;
    },
    getReader: (options?: never) => asWeb().getReader(options),
    cancel: (reason?: unknown) => asWeb().cancel(reason),
    pipeTo: (...a: Parameters<ReadableStream['pipeTo']>) => asWeb().pipeTo(...a),
    pipeThrough: (...a: Parameters<ReadableStream['pipeThrough']>) => asWeb().pipeThrough(...a),
    tee: () => asWeb().tee(),
  };
  return body as unknown as ReadableStream<Uint8Array>;
}

/** `response` reads its body from `res`: as the streamed body, or whole (text, json, arrayBuffer). */
function streamFrom(response: Response, res: http.IncomingMessage): void {
  const body = streamedBody(res);
  const whole = async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of body as unknown as AsyncIterable<Buffer>) chunks.push(chunk);
    return Buffer.concat(chunks);
  };
  const text = async () => (await whole()).toString('utf8');
  Object.defineProperties(response, {
    body: { value: body },
    text: { value: text },
    json: { value: async () => JSON.parse(await text()) },
    arrayBuffer: { value: async () => new Uint8Array(await whole()).buffer },
  });
}

const isEventStream = (res: http.IncomingMessage) =>
  (res.headers['content-type'] ?? '').toLowerCase().startsWith('text/event-stream');

function abortError(): DOMException {
  return new DOMException('This operation was aborted', 'AbortError');
}

/** A fetch-compatible function for the Anthropic SDK's `fetch` option. */
export function httpFetch(input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
  const url = typeof input === 'string' ? new URL(input) : input instanceof URL ? input : undefined;
  const { body, signal } = init;
  const agent = url && agents[url.protocol as keyof typeof agents];
  if (!url || !agent || (body != null && typeof body !== 'string' && !(body instanceof Uint8Array)))
    return fetch(input, init);
  return new Promise<Response>((resolve, reject) => {
    if (signal?.aborted) return reject(abortError());
    const headers: Record<string, string> = {};
    // The SDK hands a Headers: read as it is, not copied into another first.
    (init.headers instanceof Headers ? init.headers : new Headers(init.headers)).forEach((value, name) => {
      headers[name] = value;
    });
    const request = (url.protocol === 'https:' ? https : http).request(url, {
      method: init.method ?? 'GET',
      headers,
      agent,
    });
    const onAbort = () => request.destroy(abortError());
    signal?.addEventListener('abort', onAbort, { once: true });
    const settle = () => signal?.removeEventListener('abort', onAbort);
    // Shaped like the built-in fetch's failures: the SDK turns them into a connection error. Not
    // `once`: a request that emits a second error must not find no listener (that would end the daemon).
    const fail = (err: Error) => {
      settle();
      reject(err.name === 'AbortError' ? err : new TypeError('fetch failed', { cause: err }));
    };
    request.on('error', fail);
    // A redirect is not followed: the Messages API does not redirect, and following one would carry
    // the API key to wherever it points. The SDK reports the 3xx as an API error.
    request.once('response', (res) => {
      res.on('error', () => undefined); // a body cut short errors its stream, read by the SDK
      try {
        const responseHeaders = new Headers();
        const raw = res.rawHeaders;
        for (let i = 0; i + 1 < raw.length; i += 2) responseHeaders.append(raw[i], raw[i + 1]);
        const status = res.statusCode ?? 0;
        const hasBody = !NO_BODY.has(status) && init.method !== 'HEAD';
        const streamed = hasBody && status >= 200 && status < 300 && isEventStream(res);
        // A status no Response can have (outside 200-599) throws here, as it fails the built-in fetch.
        const response = new Response(
          hasBody && !streamed ? (Readable.toWeb(res) as ReadableStream<Uint8Array>) : null,
          { status, statusText: res.statusMessage ?? '', headers: responseHeaders },
        );
        if (streamed) streamFrom(response, res);
        else if (!hasBody) res.resume();
        // An abort after the headers ends the body stream with the same error the built-in fetch gives.
        if (signal) {
          signal.removeEventListener('abort', onAbort);
          const abortBody = () => res.destroy(abortError());
          signal.addEventListener('abort', abortBody, { once: true });
          res.once('close', () => signal.removeEventListener('abort', abortBody));
        }
        resolve(response);
      } catch (err) {
        res.destroy();
        fail(err as Error);
      }
    });
    if (body == null) request.end();
    else if (typeof body === 'string') request.end(Buffer.from(body));
    else request.end(body, () => releaseJsonBody(body));
  });
}

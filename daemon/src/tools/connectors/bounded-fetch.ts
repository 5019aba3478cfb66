// The fetch an HTTP connector's transport uses: answers are streamed and cut off past a bound, as
// the stdio transport cuts off a message over 10 MB. Without it a server's 200 MB answer is read
// whole into memory (about 1 GB of daemon memory) before anything can clip it.
export const MAX_CONNECTOR_ANSWER_BYTES = 10 * 1024 * 1024;

export class AnswerTooLargeError extends Error {
  constructor(max: number) {
    super(
      `the connector's answer was over ${Math.round(max / (1024 * 1024))} MB, so Errand stopped reading it; ask the tool for less (a narrower query, or one page at a time)`,
    );
  }
}

/** Responses that may not have a body (new Response refuses one). */
const NO_BODY = new Set([101, 103, 204, 205, 304]);

/** Passes bytes on until more than `max` arrived in all. */
function totalLimit(max: number): TransformStream<Uint8Array, Uint8Array> {
  let seen = 0;
  return new TransformStream({
    transform(chunk, out) {
      seen += chunk.byteLength;
      if (seen > max) out.error(new AnswerTooLargeError(max));
      else out.enqueue(chunk);
    },
  });
}

/**
 * For an event stream, which stays open for the whole session: the bound is on one event (the bytes
 * since the last blank line), as each event is one message.
 */
function eventLimit(max: number, over: () => void): TransformStream<Uint8Array, Uint8Array> {
  let since = 0;
  let breaks = 0; // line ends in a row; two end an event
  let afterCR = false;
  return new TransformStream({
    transform(chunk, out) {
      for (let i = 0; i < chunk.length; i++) {
        const b = chunk[i]!;
        if (b === 0x0d) {
          breaks++;
          afterCR = true;
        } else if (b === 0x0a) {
          if (!afterCR) breaks++;
          afterCR = false;
        } else {
          breaks = 0;
          afterCR = false;
        }
        since = breaks >= 2 ? 0 : since + 1;
      }
      if (since > max) {
        over();
        out.error(new AnswerTooLargeError(max));
      } else out.enqueue(chunk);
    },
  });
}

/**
 * `base` with every response body bounded. `onTooLarge` is told when an event stream is cut: the
 * transport then only logs the broken stream, and the request it carried would wait for its time limit.
 */
export function boundedFetch(
  opts: { max?: number; onTooLarge?: (err: AnswerTooLargeError) => void; base?: typeof fetch } = {},
): typeof fetch {
  const max = opts.max ?? MAX_CONNECTOR_ANSWER_BYTES;
  const base = opts.base ?? fetch;
  return async (input, init) => {
    const res = await base(input, init);
    if (!res.body || NO_BODY.has(res.status)) return res;
    const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (type !== 'text/event-stream' && declared > max) {
      await res.body.cancel().catch(() => undefined);
      throw new AnswerTooLargeError(max);
    }
    const body =
      type === 'text/event-stream'
        ? res.body.pipeThrough(eventLimit(max, () => opts.onTooLarge?.(new AnswerTooLargeError(max))))
        : res.body.pipeThrough(totalLimit(max));
    const bounded = new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
    // What the transport reads to report a redirect it did not follow.
    for (const key of ['url', 'redirected', 'type'] as const)
      Object.defineProperty(bounded, key, { value: res[key], enumerable: true });
    return bounded;
  };
}

// Delivers one already-built Web Push request (from webpush.generateRequestDetails) and reports
// the push service's answer. The real transport is node:https: no redirects followed (a 3xx comes
// back as a status), a deadline for the whole exchange (not only between bytes), the response body
// read only up to a small cap.
import https from 'node:https';
import { vettedLookup } from './vetted-lookup.js';

export interface PushRequest {
  endpoint: string;
  method: 'POST';
  headers: Record<string, string | number>;
  body: Buffer | null;
}

export interface PushResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The start of the response body, for the outcome's detail. */
  body?: string;
}

export type PushTransport = (request: PushRequest) => Promise<PushResponse>;

export interface HttpsTransportOptions {
  timeoutMs?: number;
  /**
   * Tests and benchmarks only: connect to this address instead of resolving the endpoint's host.
   * TLS still checks the certificate against the endpoint's host name (with `ca` below).
   */
  connectTo?: { host: string; port: number };
  /** Extra trusted CA certificates (PEM), for a test push service. */
  ca?: string | Buffer;
  /** How host names are resolved (tests); whatever it answers is vetted: internal addresses are refused. */
  resolve?: Parameters<typeof vettedLookup>[0];
}

export interface HttpsTransport extends PushTransport {
  close(): void;
}

const MAX_RESPONSE_BODY = 4096;

export function httpsTransport(opts: HttpsTransportOptions = {}): HttpsTransport {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  // Keep connections to the push service open between pushes: most pushes go to one host.
  const agent = new https.Agent({
    keepAlive: true,
    maxSockets: 8,
    timeout: timeoutMs,
    ...(opts.ca ? { ca: opts.ca } : {}),
  });
  const lookup = vettedLookup(opts.resolve);
  const send = (req: PushRequest) =>
    new Promise<PushResponse>((resolve, reject) => {
      const url = new URL(req.endpoint);
      if (url.protocol !== 'https:') {
        reject(new Error('push transport only speaks https'));
        return;
      }
      let deadline: NodeJS.Timeout | undefined;
      let settled = false;
      const settle = (done: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        done();
      };
      const fail = (err: Error) => settle(() => reject(err));
      const r = https.request(
        {
          agent,
          method: req.method,
          hostname: opts.connectTo?.host ?? url.hostname,
          // Connect only to a public address, the very one that was checked.
          ...(opts.connectTo ? {} : { lookup: lookup as never }),
          port: opts.connectTo?.port ?? (url.port || 443),
          servername: url.hostname,
          path: `${url.pathname}${url.search}`,
          headers: { ...req.headers, host: url.host },
          timeout: timeoutMs,
        },
        (res) => {
          let body = '';
          const answer = () => settle(() => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            body += chunk.slice(0, MAX_RESPONSE_BODY - body.length);
            if (body.length < MAX_RESPONSE_BODY) return;
            // Enough for the outcome's detail: the rest is not read (a body without end would keep it open).
            answer();
            res.destroy();
          });
          res.on('end', answer);
          res.on('error', fail);
        },
      );
      // The socket timeout restarts with every byte, so a service trickling its answer would hold the
      // push (and one of the connections every push to that host shares) for ever: the whole exchange,
      // from when it has a connection (waiting for one is bounded by the deadlines ahead of it), gets
      // timeoutMs. A destroyed connection is not reused; the next push opens a new one.
      r.on('socket', () => {
        if (settled) return;
        deadline ??= setTimeout(() => {
          const err = new Error(`no complete answer from the push service within ${timeoutMs} ms`);
          fail(err);
          r.destroy(err);
        }, timeoutMs);
      });
      r.on('timeout', () => r.destroy(new Error(`no answer from the push service within ${timeoutMs} ms`)));
      r.on('error', fail);
      r.end(req.body ?? undefined);
    });
  return Object.assign(send, { close: () => agent.destroy() });
}

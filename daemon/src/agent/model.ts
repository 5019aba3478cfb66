// The real model client: @anthropic-ai/sdk's messages.stream(), with the SDK's own retries off
// (the loop retries, bounded by agent.retryWindowSeconds) and cancellation through an AbortSignal.
// The SDK (about 20 MB resident) is loaded with the first model call, not at daemon start.
import type Anthropic from '@anthropic-ai/sdk';
import { httpFetch } from './http-fetch.js';
import { encodeModelRequest } from './request-body.js';
import { IncompleteStreamError } from './retry.js';
import type { ModelClient, StreamEvent } from './wire.js';

export function anthropicModel(opts: { apiKey: string; baseURL?: string }): ModelClient {
  let client: Promise<Anthropic> | undefined;
  const load = () =>
    (client ??= import('@anthropic-ai/sdk').then(
      ({ default: SDK }) =>
        // No OpenTelemetry: the daemon registers no tracer, so the SDK's spans would record nothing,
        // yet building their attributes (headers rebuilt, body read) costs every model call.
        new SDK({
          apiKey: opts.apiKey,
          ...(opts.baseURL ? { baseURL: opts.baseURL } : {}),
          maxRetries: 0,
          openTelemetry: false,
          fetch: httpFetch,
        }),
    ));
  return {
    async stream(request, { signal, onEvent }) {
      const sdk = await load();
      let stopped = false;
      const { betas, ...body } = request;
      const stream = sdk.messages.stream(body as unknown as Parameters<typeof sdk.messages.stream>[0], {
        signal,
        // The bytes the SDK would send (its params plus stream: true), made without one big string.
        body: encodeModelRequest({ ...body, stream: true }),
        headers: {
          'content-type': 'application/json',
          ...(betas?.length ? { 'anthropic-beta': betas.join(',') } : {}),
        },
      });
      stream.on('streamEvent', (event) => {
        if ((event as { type: string }).type === 'message_stop') stopped = true;
        onEvent(event as unknown as StreamEvent);
      });
      await stream.done();
      if (!stopped && !signal.aborted) throw new IncompleteStreamError();
    },
  };
}

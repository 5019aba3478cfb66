// The real model client: @anthropic-ai/sdk's streamed messages.create(), with the SDK's own retries off
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
      // The raw event stream, not the SDK's MessageStream: the loop assembles the reply itself
      // (model-call.ts), so MessageStream's own copy of it (re-parsing a tool's partial input at
      // every delta) and its event emitter were work done twice.
      const stream = await sdk.messages.create(
        { ...body, stream: true } as unknown as Parameters<typeof sdk.messages.create>[0] & { stream: true },
        {
          signal,
          // The bytes the SDK would send (its params plus stream: true), made without one big string.
          body: encodeModelRequest({ ...body, stream: true }),
          headers: {
            'content-type': 'application/json',
            ...(betas?.length ? { 'anthropic-beta': betas.join(',') } : {}),
          },
        },
      );
      // An abort ends the iteration quietly; the caller sees its signal aborted.
      for await (const event of stream) {
        if (event.type === 'message_stop') stopped = true;
        onEvent(event as unknown as StreamEvent);
      }
      if (!stopped && !signal.aborted) throw new IncompleteStreamError();
    },
  };
}

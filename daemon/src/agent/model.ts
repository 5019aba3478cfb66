// The real model client: @anthropic-ai/sdk's messages.stream(), with the SDK's own retries off
// (the loop retries, bounded by agent.retryWindowSeconds) and cancellation through an AbortSignal.
import Anthropic from '@anthropic-ai/sdk';
import { IncompleteStreamError } from './retry.js';
import type { ModelClient, StreamEvent } from './wire.js';

export function anthropicModel(opts: { apiKey: string; baseURL?: string }): ModelClient {
  const client = new Anthropic({ apiKey: opts.apiKey, ...(opts.baseURL ? { baseURL: opts.baseURL } : {}), maxRetries: 0 });
  return {
    async stream(request, { signal, onEvent }) {
      let stopped = false;
      const stream = client.messages.stream(request as unknown as Parameters<typeof client.messages.stream>[0], { signal });
      stream.on('streamEvent', (event) => {
        if ((event as { type: string }).type === 'message_stop') stopped = true;
        onEvent(event as unknown as StreamEvent);
      });
      await stream.done();
      if (!stopped && !signal.aborted) throw new IncompleteStreamError();
    },
  };
}

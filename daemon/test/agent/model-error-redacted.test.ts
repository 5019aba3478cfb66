// A model endpoint (a gateway, a proxy) that echoes the API key in its error must not put the key in
// the task's reason, the thread's last line, the journal or the events every phone gets: the
// classifier's text is what all of those carry, so it comes out redacted. The errors are the real
// SDK's, from a scripted Messages API on 127.0.0.1.
import Anthropic from '@anthropic-ai/sdk';
import { afterEach, expect, it } from 'vitest';
import { classify } from '../../src/agent/retry.js';
import { type ModelServer, type ScriptReply, startModelServer } from '../helpers/model-server.js';

const KEY = 'sk-test-key-SECRET123';
/** A gateway's own key, not shaped like an Anthropic one: only knowing it redacts it. */
const GATEWAY_KEY = 'gw_live_7f3a9c1e5b2d8f40';

let server: ModelServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** The error the real SDK raises for `reply`. */
async function sdkError(reply: ScriptReply): Promise<unknown> {
  server = await startModelServer([reply]);
  const sdk = new Anthropic({ apiKey: KEY, baseURL: server.url, maxRetries: 0 });
  try {
    const stream = await sdk.messages.create({
      model: 'claude-test',
      max_tokens: 10,
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    for await (const _event of stream) {
      /* until the error */
    }
  } catch (err) {
    return err;
  } finally {
    await server.close();
    server = undefined;
  }
  throw new Error('the scripted reply did not fail');
}

const cases: Array<[string, ScriptReply]> = [
  ['400', { kind: 'status', status: 400, errorType: 'invalid_request_error', message: `invalid x-api-key: ${KEY}` }],
  ['403', { kind: 'status', status: 403, errorType: 'permission_error', message: `key ${KEY} may not do this` }],
  ['500', { kind: 'status', status: 500, errorType: 'api_error', message: `upstream said ${KEY} / ${GATEWAY_KEY}` }],
  ['529', { kind: 'status', status: 529, errorType: 'overloaded_error', message: `busy for ${GATEWAY_KEY}` }],
  ['mid-stream', { kind: 'stream-error', errorType: 'api_error', message: `bad key ${KEY}` }],
];

it.each(cases)('a %s error echoing the key is told without it', async (_name, reply) => {
  const err = await sdkError(reply);
  const f = classify(err, 'claude-test', [KEY, GATEWAY_KEY]);
  const told = JSON.stringify(f);
  expect(told).not.toContain(KEY);
  expect(told).not.toContain(GATEWAY_KEY);
  expect(f.message).toContain('[redacted]');
});

it('redacts a key-shaped token even before the caller passes the known secrets', async () => {
  const err = await sdkError({
    kind: 'status',
    status: 400,
    errorType: 'invalid_request_error',
    message: `invalid x-api-key: ${KEY}`,
  });
  const f = classify(err, 'claude-test');
  expect(f.message).not.toContain(KEY);
  expect(f.message).toMatch(/refused the request \(400\): invalid x-api-key: \[redacted\]\. Retry/);
});

// A command with unknown fields is refused naming a few of them, each cut short and escaped: the
// names are whatever the client sent, and a 900 KB name came back whole in the refusal. Any
// sentence made from zod's words is kept short as well.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commandProblem } from '../../src/server/command-issue.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import type { WsTestClient } from '../helpers/ws-client.js';

it('a sentence from zod is cut at 300 characters, never inside a surrogate pair', () => {
  const long = commandProblem('thread.create', {
    code: 'custom',
    path: ['text'],
    // "text " and 293 x: the emoji's halves are the 299th and 300th characters, where the cut falls.
    message: `${'x'.repeat(293)}\u{1F600}${'y'.repeat(5000)}`,
  });
  expect(long).toBe(`Invalid "thread.create": text ${'x'.repeat(293)}…`);
  expect(commandProblem('thread.get', { code: 'invalid_type', path: ['threadId'], message: 'expected string' })).toBe(
    'Invalid "thread.get": threadId expected string',
  );
});

describe('on a real host', () => {
  let td: TestDaemon;
  let phone: WsTestClient;
  beforeEach(async () => {
    td = await startTestDaemon();
    phone = await td.connect();
  });
  afterEach(async () => {
    await td.stop();
  });

  async function refusal(frame: Record<string, unknown>): Promise<{ code: string; message: string }> {
    phone.sendRaw(JSON.stringify(frame));
    const answer = await phone.waitFor((f) => f.type === 'error' && f.id === frame.id);
    return answer as { code: string; message: string };
  }

  it('a 900 KB field name is named back cut to 40 characters, and the refusal stays short', async () => {
    const answer = await refusal({ id: 'unknown-key-01', type: 'ping', ['Z'.repeat(900_000)]: 1 });
    expect(answer).toEqual({
      type: 'error',
      id: 'unknown-key-01',
      code: 'bad_request',
      message: `Invalid "ping": frame has an unknown field "${'Z'.repeat(40)}"…`,
    });
    expect(phone.closed).toBeUndefined();
  });

  it('many unknown fields: the first three are named, escaped, and the rest counted', async () => {
    const answer = await refusal({
      id: 'unknown-key-02',
      type: 'presence.set',
      threadId: null,
      foreground: true,
      'a"b': 1,
      'esc\u001b[2Jape': 2,
      ['\u{1F600}'.repeat(30)]: 3,
      d: 4,
      e: 5,
    });
    expect(answer.code).toBe('bad_request');
    expect(answer.message).toBe(
      `Invalid "presence.set": frame has unknown fields "a\\"b", "esc\\u001b[2Jape", "${'\u{1F600}'.repeat(20)}"… and 2 more`,
    );
  });
});

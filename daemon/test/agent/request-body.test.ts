// The model request written piece by piece must be byte for byte what JSON.stringify gives, and
// a pooled buffer must never be handed out again while its bytes may still be in flight.
import { describe, expect, it } from 'vitest';
import { fitContext } from '../../src/agent/context-window.js';
import { encodeModelRequest, releaseJsonBody } from '../../src/agent/request-body.js';
import { JsonWriter } from '../../src/util/json-writer.js';

/** `value` through the piecewise writer, from a buffer small enough to make it grow. */
function jsonOf(value: unknown): string {
  const w = new JsonWriter(Buffer.alloc(16));
  w.json(value);
  return w.buffer.toString('utf8', 0, w.length);
}

const page = (n: number) => `File ${n}\n${'The quick brown fox jumps over the lazy dog; '.repeat(1300)}`;

function agentRequest(turns: number) {
  const messages: unknown[] = [{ role: 'user', content: [{ type: 'text', text: 'Summarise the files, please.' }] }];
  for (let t = 0; t < turns; t++) {
    messages.push({
      role: 'assistant',
      content: [
        { type: 'text', text: `Reading file ${t} \u2026 caf\u00e9 \ud83d\udcc4` },
        {
          type: 'tool_use',
          id: `toolu_${t}`,
          name: 'fs_read',
          input: { path: `/home/u/f${t}.txt`, offset: undefined },
        },
      ],
    });
    messages.push({
      role: 'user',
      content: [
        {
          type: 'tool_result',
          tool_use_id: `toolu_${t}`,
          content: [{ type: 'text', text: page(t) }],
          is_error: undefined,
        },
      ],
    });
  }
  return {
    model: 'claude-sonnet-4-5',
    max_tokens: 8192,
    system: [{ type: 'text', text: 'You are Errand.', cache_control: { type: 'ephemeral' } }],
    tools: [{ name: 'fs_read', description: 'Reads a file.', input_schema: { type: 'object', properties: {} } }],
    messages,
    thinking: undefined,
    stream: true,
  };
}

describe('request body', () => {
  it('is exactly JSON.stringify for an agent request near a megabyte, reused buffer or not', () => {
    const request = agentRequest(20);
    const expected = JSON.stringify(request);
    expect(expected.length).toBeGreaterThan(1_000_000);
    const first = encodeModelRequest(request);
    expect(first.toString('utf8')).toBe(expected);
    releaseJsonBody(first);
    // The released buffer serves the next body, which must not carry anything of the last one.
    const smaller = agentRequest(2);
    const second = encodeModelRequest(smaller);
    expect(second.buffer).toBe(first.buffer);
    expect(second.toString('utf8')).toBe(JSON.stringify(smaller));
  });

  it('matches JSON.stringify where values have no JSON form, have toJSON, or are deep', () => {
    const odd = {
      a: undefined,
      b: () => 1,
      c: Symbol('s'),
      d: [undefined, () => 1, Symbol('t'), null, Number.NaN, -0, 1e21],
      e: new Date(0),
      f: { toJSON: () => ({ x: 'y' }) },
      g: [[[[[[[{ deep: ['\u2028', '"\\', '\u0000'] }]]]]]]],
      'key "quoted"': '\ud800 lone surrogate',
      h: [],
      i: {},
    };
    expect(jsonOf(odd)).toBe(JSON.stringify(odd));
    expect(jsonOf([undefined])).toBe('[null]');
    expect(jsonOf('text')).toBe('"text"');
  });

  it('does not hand a buffer out twice while the first body is still held', () => {
    const a = encodeModelRequest(agentRequest(3));
    const b = encodeModelRequest(agentRequest(3));
    expect(b.buffer).not.toBe(a.buffer);
    const copy = Buffer.from(a);
    encodeModelRequest({ overwrite: 'x'.repeat(a.length) });
    expect(Buffer.compare(a, copy)).toBe(0);
  });

  it('keeps buffers for tasks that encode at once, and takes each back once', () => {
    const bodies = Array.from({ length: 8 }, (_, i) => encodeModelRequest({ task: i, text: 'x'.repeat(100) }));
    expect(new Set(bodies.map((b) => b.buffer)).size).toBe(8);
    for (const b of bodies) releaseJsonBody(b);
    releaseJsonBody(bodies[0]); // a second release of the same body changes nothing
    const again = Array.from({ length: 9 }, (_, i) => encodeModelRequest({ again: i }));
    const reused = again.filter((b) => bodies.some((old) => old.buffer === b.buffer));
    expect(reused).toHaveLength(8); // all eight come back, none twice; the ninth is new
    expect(new Set(again.map((b) => b.buffer)).size).toBe(9);
    for (const [i, b] of again.entries()) expect(b.toString('utf8')).toBe(JSON.stringify({ again: i }));
    for (const b of again) releaseJsonBody(b);
  });

  it('never takes in a buffer it did not hand out', () => {
    const foreign = Buffer.alloc(256 * 1024, 0x61);
    releaseJsonBody(foreign);
    const body = encodeModelRequest({ hello: 'world' });
    expect(body.buffer).not.toBe(foreign.buffer);
    expect(foreign.every((byte) => byte === 0x61)).toBe(true);
  });
});

describe('model request with kept block encodings', () => {
  const same = (request: Record<string, unknown>) => {
    const bytes = encodeModelRequest(request);
    expect(bytes.toString('utf8')).toBe(JSON.stringify(request));
    releaseJsonBody(bytes);
  };

  it('stays exactly JSON.stringify turn after turn as the conversation grows and old results shrink', () => {
    const request = agentRequest(2) as ReturnType<typeof agentRequest> & { messages: any[] };
    same(request);
    for (let t = 2; t < 40; t++) {
      request.messages.push(...(agentRequest(t + 1).messages.slice(-2) as any[]));
      // The context rules shorten old tool results in place (a new content array on the same block).
      fitContext(request as never, 150_000);
      same(request);
    }
    expect(JSON.stringify(request)).toContain('shortened');
  });

  it('notices a block whose own properties were replaced, added or removed', () => {
    const request = agentRequest(3) as any;
    same(request);
    const result = request.messages[2].content[0];
    result.content = 'replaced output '.repeat(200);
    same(request);
    result.is_error = true;
    same(request);
    delete result.is_error;
    same(request);
    // Tool and system blocks are kept however small they are.
    request.tools[0].name = 'fs_read_2';
    same(request);
    request.tools[0].description = 'Reads a file, now described differently. '.repeat(40);
    same(request);
    request.system[0].cache_control = { type: 'ephemeral', ttl: '1h' };
    same(request);
    request.system[0] = { ...request.system[0], text: 'Another system prompt. '.repeat(100) };
    same(request);
  });

  it('writes what has no JSON form as JSON.stringify does, at every level', () => {
    const odd = {
      model: 'm',
      system: 'plain string system',
      tools: [undefined, null, { name: 't', when: new Date(0), skip: undefined }],
      messages: [
        { role: 'user', content: 'plain string content', extra: undefined },
        { role: 'assistant', content: [null, undefined, { type: 'text', text: 'x'.repeat(5000), f: () => 1 }] },
        null,
        'not a message',
      ],
      stream: true,
    };
    same(odd);
    same(odd);
  });
});

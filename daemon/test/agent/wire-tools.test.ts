import { describe, expect, it } from 'vitest';
import { ASK_USER } from '../../src/agent/prompt.js';
import type { ModelToolDefinition } from '../../src/agent/tool-runtime.js';
import { wireTools } from '../../src/agent/wire-tools.js';

const schema = { type: 'object' as const, properties: { path: { type: 'string' } } };
const defs = (): ModelToolDefinition[] => [
  // As the runtime gives them: a fresh copy of a read tool's definition each time, same schema.
  { name: 'fs_read', description: 'Reads a file.', input_schema: schema, readOnly: true },
  { name: 'memory', apiType: 'memory_20250818', description: 'Memory.', input_schema: { type: 'object' } },
];

describe('wire tools', () => {
  it('are the same objects from task to task, without what is not sent, ask_user last with the cache breakpoint', () => {
    const first = wireTools(defs());
    const second = wireTools(defs());
    expect(first).not.toBe(second);
    expect(second[0]).toBe(first[0]);
    expect(second[2]).toBe(first[2]);
    expect(first[0]).toEqual({ name: 'fs_read', description: 'Reads a file.', input_schema: schema });
    expect(first[1]).toEqual({ type: 'memory_20250818', name: 'memory' });
    expect(first.at(-1)).toMatchObject({ name: ASK_USER, cache_control: { type: 'ephemeral' } });
    expect(first.filter((t) => 'cache_control' in t)).toHaveLength(1);
  });

  it('follow a definition that changed', () => {
    const before = wireTools(defs())[0];
    const changed = defs();
    changed[0] = { ...changed[0], description: 'Reads a file, differently.' };
    const after = wireTools(changed)[0];
    expect(after).not.toBe(before);
    expect(after).toMatchObject({ description: 'Reads a file, differently.' });
  });
});

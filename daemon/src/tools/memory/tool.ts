// The memory tool as the tool runtime sees it: the Messages API's client-side memory tool
// (memory_20250818), run by the daemon on home/memory. It is a 'write' tool (journaled, undoable)
// whose changes persist beyond the thread, so policy asks before one in a tainted thread.
import type { ToolSpec } from '../types.js';
import { type MemoryDeps, prepareMemory } from './commands.js';

export const MEMORY_TOOL_TYPE = 'memory_20250818';
export const MEMORY_TOOL_NAME = 'memory';

export function memoryTool(d: MemoryDeps): ToolSpec {
  return {
    definition: {
      name: MEMORY_TOOL_NAME,
      // The API knows this tool by its type; name and schema are the API's own.
      apiType: MEMORY_TOOL_TYPE,
      description: 'Memory across threads (/memories).',
      input_schema: { type: 'object' },
    },
    kind: 'write',
    egress: false,
    summarize(input) {
      const p = typeof input.path === 'string' ? input.path : typeof input.old_path === 'string' ? input.old_path : '';
      const verb = input.command === 'view' ? 'Read memory' : 'Change memory';
      return `${verb} ${p}`.slice(0, 120);
    },
    prepare: (input, call) => prepareMemory(d, input, call.taskId),
  };
}

// An approval's exact action behind Details, as labelled lines: every field kept, each string whole
// (its quotes and spaces as they are, no JSON escaping), hidden characters as markers.
import { describe, expect, it } from 'vitest';
import { actionFields } from '../src/lib/action-lines.js';

const str = (text: string) => ({ kind: 'string', text });

describe("an approval's exact action as lines", () => {
  it('labels a command: program, its arguments one by one exactly, folder and sandbox', () => {
    const action = {
      tool: 'shell',
      argv: ['python3', '-c', 'print("a  b")', '', 'two words'],
      program: '/usr/bin/python3',
      cwd: '/home/me/workspace',
      sandbox: 'off: not sandboxed',
    };
    expect(actionFields(action, 'shell')).toEqual([
      {
        label: 'Arguments',
        value: { kind: 'list', items: [str('python3'), str('-c'), str('print("a  b")'), str(''), str('two words')] },
      },
      { label: 'Program', value: str('/usr/bin/python3') },
      { label: 'Folder', value: str('/home/me/workspace') },
      { label: 'Sandbox', value: str('off: not sandboxed') },
    ]);
  });

  it('keeps a tool name that differs from the heading, and every other field by its own name', () => {
    const fields = actionFields(
      { tool: 'other', overwrite: true, bytes: 12, missing: null, files: { '/w/a.md': { size: 3 } }, none: [] },
      'fs_write',
    );
    expect(fields).toEqual([
      { label: 'Tool', value: str('other') },
      { label: 'overwrite', value: { kind: 'literal', text: 'true' } },
      { label: 'bytes', value: { kind: 'literal', text: '12' } },
      { label: 'missing', value: { kind: 'literal', text: 'null' } },
      {
        label: 'files',
        value: {
          kind: 'fields',
          fields: [
            {
              label: '/w/a.md',
              value: { kind: 'fields', fields: [{ label: 'size', value: { kind: 'literal', text: '3' } }] },
            },
          ],
        },
      },
      { label: 'none', value: { kind: 'list', items: [] } },
    ]);
  });

  it('shows hidden characters in values and names as markers, a line break inside an argument too', () => {
    const fields = actionFields(
      { argv: ['echo', 'hi\u202E;rm -rf data\n#'], arguments: { 'na\u200Bme': 'x\u2066y' }, constructor: 'c' },
      'shell',
    );
    expect(fields).toEqual([
      { label: 'Arguments', value: { kind: 'list', items: [str('echo'), str('hi⟨U+202E⟩;rm -rf data⟨U+000A⟩#')] } },
      { label: 'Arguments', value: { kind: 'fields', fields: [{ label: 'na⟨U+200B⟩me', value: str('x⟨U+2066⟩y') }] } },
      // A field named like an Object property is still a field, by its own name.
      { label: 'constructor', value: str('c') },
    ]);
  });
});

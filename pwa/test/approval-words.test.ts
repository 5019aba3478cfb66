// Approval cards in plain words: the sentence for each kind of action, paths relative to their
// allowed folder, the command as one line a person would type.
import { describe, expect, it } from 'vitest';
import type { Approval } from '../../shared/src/index.js';
import { approvalWords, relativeToRoot } from '../src/lib/approval-words.js';

const approval = (action: Record<string, unknown>, summary = 'do something'): Approval => ({
  id: 'apr_1',
  taskId: 'tsk_1',
  threadId: 'thr_1',
  tool: String(action.tool ?? 'x'),
  summary,
  action,
  hash: 'h',
  createdAt: 0,
  expiresAt: 1,
  state: 'pending',
});
const roots = ['/home/ann/.errand/workspace', '/home/ann/Projects', '/home/ann/Projects/site'];

describe('approval words', () => {
  it('shows paths relative to the deepest allowed folder holding them', () => {
    expect(relativeToRoot('/home/ann/Projects/q3/report.md', roots)).toBe('Projects/q3/report.md');
    expect(relativeToRoot('/home/ann/Projects/site/index.html', roots)).toBe('site/index.html');
    expect(relativeToRoot('/home/ann/Projects', roots)).toBe('Projects');
    expect(relativeToRoot('/home/ann/Projectsx/a', roots)).toBe('/home/ann/Projectsx/a');
  });

  it('a shell command: where, the command on one line, and whether the sandbox contains it', () => {
    const w = approvalWords(
      approval({
        tool: 'shell',
        argv: ['python3', 'make chart.py', '--out', 'q3.png'],
        cwd: '/home/ann/Projects/q3',
        sandbox: 'off: bubblewrap missing',
      }),
      roots,
    );
    expect(w).toEqual({
      sentence: 'Your computer wants to run a command in Projects/q3.',
      command: "python3 'make chart.py' --out q3.png",
      sandbox: 'off',
    });
    expect(approvalWords(approval({ tool: 'shell', argv: ['ls'], cwd: '/x', sandbox: 'on: …' }), roots).sandbox).toBe(
      'on',
    );
  });

  it('file changes and connector calls read as sentences', () => {
    expect(
      approvalWords(approval({ tool: 'fs_write', path: '/home/ann/Projects/a.md', overwrite: true }), roots).sentence,
    ).toBe('Your computer wants to overwrite Projects/a.md.');
    expect(
      approvalWords(approval({ tool: 'fs_delete', path: '/home/ann/Projects/old', type: 'folder' }), roots).sentence,
    ).toBe('Your computer wants to delete the folder Projects/old.');
    expect(
      approvalWords(approval({ tool: 'fs_move', from: '/home/ann/Projects/a', to: '/home/ann/Projects/b' }), roots)
        .sentence,
    ).toBe('Your computer wants to move Projects/a to Projects/b.');
    expect(
      approvalWords(approval({ tool: 'mail__send', connector: 'mail', serverTool: 'send', arguments: {} }), roots)
        .sentence,
    ).toBe('Your computer wants to use “send” from the mail connector.');
    expect(approvalWords(approval({ tool: 'other' }, 'Do the thing'), roots).sentence).toBe(
      'Your computer wants to: Do the thing',
    );
  });
});

// Approval cards in plain words: the sentence for each kind of action, paths relative to their
// allowed folder, the command as one line a person would type; every invisible, control or
// direction-changing character in them shown as a visible marker, so the card reads as what runs.
import { describe, expect, it } from 'vitest';
import type { Approval } from '../../shared/src/index.js';
import { visibleText } from '../../shared/src/visible-text.js';
import { approvalWords, asksToContinue, relativeToRoot } from '../src/lib/approval-words.js';

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
  it('a spending limit or a suspected runaway asks whether to go on, not what the computer wants to do', () => {
    const spend = approval({ kind: 'spend', question: 'q' }, 'Used $1.20 of $0.50 — continue for +$0.50?');
    expect(approvalWords(spend, roots).sentence).toBe('Spending limit. Used $1.20 of $0.50 — continue for +$0.50?');
    const loop = approval({ kind: 'same_call', question: 'q' }, 'The same call three times. Go on?');
    expect(approvalWords(loop, roots).sentence).toBe('This task may be stuck. The same call three times. Go on?');
    // Never granted for the rest of the task (each limit asks again): no "Allow for this task".
    expect([spend, loop].map(asksToContinue)).toEqual([true, true]);
    expect(asksToContinue(approval({ tool: 'shell', argv: ['ls'] }))).toBe(false);
  });

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

  it('a command hiding its rm behind direction marks reads in the order it runs', () => {
    // Drawn as is, this line reads `bash -c 'echo hi # ;rm -rf data;'`: the rm looks commented out.
    const w = approvalWords(
      approval({
        tool: 'shell',
        argv: ['bash', '-c', 'echo hi \u202E\u2066;rm -rf data;\u2069 \u2066#\u2069\u202C'],
        cwd: '/home/ann/Projects',
        sandbox: 'on: …',
      }),
      roots,
    );
    expect(w.command).toBe("bash -c 'echo hi ⟨U+202E⟩⟨U+2066⟩;rm -rf data;⟨U+2069⟩ ⟨U+2066⟩#⟨U+2069⟩⟨U+202C⟩'");
    // One line: a line break or a tab in an argument is shown, not obeyed.
    expect(approvalWords(approval({ tool: 'shell', argv: ['sh', '-c', 'ls\nrm x\t1'] }), roots).command).toBe(
      "sh -c 'ls⟨U+000A⟩rm x⟨U+0009⟩1'",
    );
  });

  it('paths, connector names and summaries in the sentence show their hidden characters', () => {
    expect(
      approvalWords(approval({ tool: 'fs_delete', path: '/home/ann/Projects/\u202Etxt.exe', type: 'file' }), roots)
        .sentence,
    ).toBe('Your computer wants to delete the file Projects/⟨U+202E⟩txt.exe.');
    expect(
      approvalWords(
        approval({ tool: 'fs_move', from: '/home/ann/Projects/a\u200B', to: '/home/ann/Projects/a' }),
        roots,
      ).sentence,
    ).toBe('Your computer wants to move Projects/a⟨U+200B⟩ to Projects/a.');
    expect(
      approvalWords(
        approval({ tool: 'm__send', connector: 'm\u2066ail', serverTool: 'se\u2028nd', arguments: {} }),
        roots,
      ).sentence,
    ).toBe('Your computer wants to use “se⟨U+2028⟩nd” from the m⟨U+2066⟩ail connector.');
    expect(approvalWords(approval({ tool: 'other' }, 'Do\u0007 the\u00A0thing'), roots).sentence).toBe(
      'Your computer wants to: Do⟨U+0007⟩ the⟨U+00A0⟩thing',
    );
  });
});

describe('visibleText', () => {
  it('shows every control, invisible and direction-changing character as ⟨U+XXXX⟩', () => {
    const hidden = [
      ...'\u202A\u202B\u202C\u202D\u202E\u2066\u2067\u2068\u2069\u200E\u200F\u061C', // direction
      ...'\u200B\u200C\u200D\u2060\uFEFF\u00AD', // zero width
      ...'\u0000\u0007\u0009\u000A\u000D\u001B\u007F\u0085\u009B\u2028\u2029', // controls, line breaks
      ...'\u00A0\u2007\u202F\u3000', // spaces that are not the space
      ...'\u115F\u3164\uFE0F\u034F\u2800',
      '\u{E0041}', // a tag character (invisible "A")
      '\uD800', // a lone surrogate
    ];
    for (const ch of hidden) {
      const code = ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
      expect(visibleText(`a${ch}b`), code).toBe(`a⟨U+${code}⟩b`);
    }
  });

  it('leaves ordinary text alone, keeps line breaks only when asked, and marks its own bracket', () => {
    const plain = 'rm -rf \'my files/é ü ß ж 日本 😀\' --x=1 "q" \\ ~ |;&';
    expect(visibleText(plain)).toBe(plain);
    expect(visibleText('{\n  "a": "b\u202E"\n}', true)).toBe('{\n  "a": "b⟨U+202E⟩"\n}');
    expect(visibleText('a\nb\tc', true)).toBe('a\nb⟨U+0009⟩c');
    // A literal "⟨U+202E⟩" in the text cannot pass for a marker.
    expect(visibleText('⟨U+202E⟩')).toBe('⟨U+27E8⟩U+202E⟩');
  });
});

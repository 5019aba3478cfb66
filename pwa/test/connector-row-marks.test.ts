// The Settings line for a connector shows the server's tool names and reason with direction marks
// and escapes as visible markers: a U+202E in a tool name would otherwise reorder the line.
import { expect, it } from 'vitest';
import { ConnectorRow } from '../src/screens/Settings.js';
import { toHtml } from './vnode-text.js';

it('makes marks in changed tool names and the reason visible', () => {
  const html = toHtml(
    ConnectorRow({
      c: {
        name: 'ev',
        transport: 'stdio',
        status: 'connected',
        reason: '1 tool left out: \u202egnp.exe',
        tools: 1,
        changedTools: ['send\u202etxt.exe', 'x\u001b[2J'],
      },
    }),
  );
  expect(html).not.toMatch(/[\u202e\u001b]/);
  expect(html).toContain('Changed since approved: send⟨U+202E⟩txt.exe, x⟨U+001B⟩[2J');
  expect(html).toContain('1 tool left out: ⟨U+202E⟩gnp.exe');
});

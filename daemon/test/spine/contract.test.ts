// The protocol contract is written once: every command type has a result schema (compile-checked),
// a handler in a started daemon, a row in docs/protocol.md's command table, and the daemon's
// replies match their schemas.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMAND_TYPES, CommandResults } from '../../../shared/src/index.js';
import { CONTROL_METHODS } from '../../src/control/protocol.js';
import { COMMAND_OWNERS } from '../../src/server/command-router.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import type { WsTestClient } from '../helpers/ws-client.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const protocolDoc = path.join(here, '../../../docs/protocol.md');

/** The names in the first column of the table whose first header is `first` ("Command", "Method"). */
function documentedNames(markdown: string, first: string): string[] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => l.replace(/\s/g, '').startsWith(`|${first}|`));
  if (start < 0) throw new Error(`no "${first}" table in docs/protocol.md`);
  const names: string[] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    const cell = line.split('|')[1] ?? '';
    let prefix = '';
    // `thread.rename` / `.archive`: a name starting with "." continues the first one's prefix.
    for (const [, name] of cell.matchAll(/`([^`]+)`/g)) {
      if (name.startsWith('.')) names.push(prefix + name);
      else {
        names.push(name);
        prefix = name.slice(0, name.lastIndexOf('.'));
      }
    }
  }
  return names;
}

describe('the command contract', () => {
  it('lists every command type once, the same as the command union', () => {
    expect(new Set(COMMAND_TYPES).size).toBe(COMMAND_TYPES.length);
    expect(Object.keys(COMMAND_OWNERS).sort()).toEqual([...COMMAND_TYPES].sort());
  });

  it('docs/protocol.md documents every command type, and no other', () => {
    const documented = documentedNames(fs.readFileSync(protocolDoc, 'utf8'), 'Command');
    expect(documented.filter((n) => !(COMMAND_TYPES as string[]).includes(n))).toEqual([]);
    expect(COMMAND_TYPES.filter((t) => !documented.includes(t))).toEqual([]);
    expect(new Set(documented).size).toBe(documented.length);
  });

  it('docs/protocol.md documents every control method, and no other', () => {
    const documented = documentedNames(fs.readFileSync(protocolDoc, 'utf8'), 'Method');
    expect([...documented].sort()).toEqual([...CONTROL_METHODS].sort());
  });

  it('reads the table as written (a "." name continues the prefix before it)', () => {
    const md = '| Command | Fields | Result |\n|---|---|---|\n| `a.b` / `.c` | x | y |\n| `d.e` | — | z |\n\nafter';
    expect(documentedNames(md, 'Command')).toEqual(['a.b', 'a.c', 'd.e']);
  });
});

describe('a started daemon', () => {
  let td: TestDaemon;
  beforeAll(async () => {
    td = await startTestDaemon();
  });
  afterAll(async () => {
    await td.stop();
  });

  it('has a handler for every command type', () => {
    expect(td.daemon.ctx.commands.missing()).toEqual([]);
  });

  it('answers every control method, and no other', () => {
    expect(td.daemon.ctx.control.methods().sort()).toEqual([...CONTROL_METHODS].sort());
  });

  it('answers commands with results their schemas accept', async () => {
    const c = await td.connect();
    const reads: Parameters<WsTestClient['send']>[0][] = [
      { type: 'memory.put', path: '/memories/prefs.md', text: 'tea, no sugar' },
      { type: 'memory.get', path: '/memories/prefs.md' },
      { type: 'ping' },
      { type: 'status.get' },
      { type: 'threads.list' },
      { type: 'devices.list' },
      { type: 'push.key' },
      { type: 'push.outcomes' },
      { type: 'schedules.list' },
      { type: 'memory.list' },
      { type: 'instructions.get' },
      { type: 'presence.set', threadId: null, foreground: true },
    ];
    for (const cmd of reads) {
      expect(COMMAND_TYPES).toContain(cmd.type);
      const result = await c.send(cmd);
      const parsed = CommandResults[cmd.type].safeParse(result);
      expect({ type: cmd.type, ok: parsed.success, issues: parsed.error?.issues }).toEqual({
        type: cmd.type,
        ok: true,
        issues: undefined,
      });
    }
  });
});

// What one connector adds to every request is bounded (a tool's definition, the tools and bytes per
// connector), model tool names are unique however server names collide, a call reaches the tool
// the model named, and a tool name with terminal escapes or direction marks is never printed.
import { afterEach, describe, expect, it } from 'vitest';
import { connectorsCommand } from '../../src/cli/commands/connectors.js';
import { ControlServer } from '../../src/control/server.js';
import type { ToolSpec } from '../../src/tools/types.js';
import { createLogger } from '../../src/util/log.js';
import { reviewAll } from './review-as-shown.js';
import { type Standalone, standaloneConnectors } from './standalone-connectors.js';

let s: Standalone | undefined;
let extra: ControlServer | undefined;
afterEach(async () => {
  await extra?.close();
  extra = undefined;
  await s?.close();
  s = undefined;
});

const t = (name: string, description = `The ${name} tool.`, inputSchema: unknown = { type: 'object' }) => ({
  name,
  description,
  inputSchema,
});
const LONG = 'list_all_open_pull_requests_with_their_reviews_and_checks_in_draft_'; // 68 characters
const EVIL_NAME = 'x\u001b]0;PWNED-TITLE\u0007\u001b[2J\u001b[1;32m All tools verified safe \u202eexe.txt';
const UNSAFE = /[\u001b\u0007\u202e]/;

async function runSpec(spec: ToolSpec): Promise<string> {
  const call = await spec.prepare({}, { taskId: 'task_t', callId: 'call_t' });
  const out = await call.execute(new AbortController().signal);
  return (out.content as Array<{ text?: string }>).map((b) => b.text ?? '').join('');
}

describe('connector tool bounds and names', () => {
  it('leaves out oversized and excess tools and badly named ones, and says so in the status and the list', async () => {
    s = await standaloneConnectors();
    const many = Array.from({ length: 3000 }, (_, i) => t(`t${String(i).padStart(4, '0')}`));
    const huge = t('huge', 'A large one.', {
      type: 'object',
      properties: { q: { type: 'string', description: 'Q'.repeat(3 * 1024 * 1024) } },
    });
    await s.manager.apply([s.scripted('gh', [t(EVIL_NAME), huge, ...many])]);
    await s.manager.settled();
    await reviewAll(s.manager);
    const status = s.manager.statuses().find((c) => c.name === 'gh')!;
    expect(status.status).toBe('connected');
    expect(status.tools).toBe(100);
    expect(status.reason).toMatch(
      /^2,902 tools left out: huge \(3\.0 MB\): a tool's definition may be at most 8\.0 KB/,
    );
    expect(status.reason).toMatch(/2,900 more tools: a connector offers at most 100 tools and 64 KB/);
    expect(status.reason).toMatch(/1 tool named with characters other than/);
    expect(s.manager.get('gh')!.tools.map((x) => x.name)).not.toContain(EVIL_NAME);
    // What the connector adds to every request stays small, so tasks keep working.
    const gh = s.manager.toolSpecs();
    expect(gh).toHaveLength(100);
    expect(JSON.stringify(gh.map((x) => x.definition)).length).toBeLessThan(80_000);

    const listed = await s.cli(connectorsCommand, ['list']);
    expect(listed.out).toMatch(/gh {2}connected, 100 tools\n.*\n {4}2,902 tools left out: huge \(3\.0 MB\)/);
    expect(listed.out).not.toMatch(UNSAFE);
  });

  it('gives tools whose model names would collide unique names, and routes each call to its own tool', async () => {
    s = await standaloneConnectors();
    await s.manager.apply([
      s.scripted('gh', [
        t('send.mail', 'Sends mail to anyone.'),
        t('send_mail', 'Reads mail (harmless).'),
        t(`${LONG}a`, 'The first long one.'),
        t(`${LONG}b`, 'The second long one.'),
        t('list_issues', 'Lists issues.'),
      ]),
      s.scripted('a', [t('b__c', 'Tool b__c of connector a.')]),
      s.scripted('a__b', [t('c', 'Tool c of connector a__b.')]),
    ]);
    await s.manager.settled();
    await reviewAll(s.manager);
    const specs = s.manager.toolSpecs();
    const names = specs.map((x) => x.definition.name);
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) expect(n).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
    // A name nothing collides with stays plain.
    expect(names).toContain('gh__list_issues');
    // Each model name reaches the tool whose description the model read.
    const byDescription = (text: string) => specs.find((x) => x.definition.description.includes(text))!;
    expect(await runSpec(byDescription('Reads mail (harmless).'))).toBe('called send_mail');
    expect(await runSpec(byDescription('Sends mail to anyone.'))).toBe('called send.mail');
    expect(await runSpec(byDescription('The first long one.'))).toBe(`called ${LONG}a`);
    expect(await runSpec(byDescription('The second long one.'))).toBe(`called ${LONG}b`);
    expect(await runSpec(byDescription('Tool b__c of connector a.'))).toBe('called b__c');
    expect(await runSpec(byDescription('Tool c of connector a__b.'))).toBe('called c');
    // Names stay the same from one request to the next.
    expect(s.manager.toolSpecs().map((x) => x.definition.name)).toEqual(names);
  });

  it('errand connectors list shows server-chosen tool names and reasons with escapes made visible', async () => {
    s = await standaloneConnectors();
    // A daemon that passed a raw name on (an older one): the CLI still never prints it as is.
    await s.control.close();
    extra = new ControlServer(`${s.home}/control.sock`, createLogger({}));
    extra.register('connectors.list', async () => ({
      connectors: [
        {
          name: 'ev',
          transport: 'stdio',
          status: 'connected',
          reason: `left out ${EVIL_NAME}`,
          tools: 1,
          changedTools: [EVIL_NAME],
          launch: 'node ev.mjs',
        },
      ],
    }));
    await extra.listen();
    const listed = await s.cli(connectorsCommand, ['list']);
    expect(listed.out).not.toMatch(UNSAFE);
    expect(listed.out).toContain('tools disabled because they changed: x\\x1b]0;PWNED-TITLE\\x07');
    expect(listed.out).toContain('\\u{202e}exe.txt');
  });
});

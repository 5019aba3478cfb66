// `errand expose` with a stand-in `tailscale` executable on PATH that records its arguments and
// answers like the real CLI (status --json, serve status --json, serve/funnel --bg, … off).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CliIO } from '../../src/cli/command.js';
import { makeExposeCommand } from '../../src/cli/commands/expose.js';
import { parseStatus } from '../../src/remote/tailscale.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-expose-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const DNS = 'laptop.tail1234.ts.net';

/** A trimmed but real-shaped `tailscale status --json`. */
function statusJson(backendState = 'Running') {
  return {
    Version: '1.90.6-t1234abcd-g5678ef',
    TUN: true,
    BackendState: backendState,
    HaveNodeKey: true,
    AuthURL: '',
    TailscaleIPs: ['100.101.102.103', 'fd7a:115c:a1e0::6501:6667'],
    Self: {
      ID: 'nAbCdEf1234CNTRL',
      PublicKey: 'nodekey:0123456789abcdef',
      HostName: 'laptop',
      DNSName: `${DNS}.`,
      OS: 'linux',
      UserID: 1234567,
      TailscaleIPs: ['100.101.102.103', 'fd7a:115c:a1e0::6501:6667'],
      Online: true,
      ExitNode: false,
      Active: true,
      CapMap: { https: null, funnel: null },
    },
    Health: [],
    MagicDNSSuffix: 'tail1234.ts.net',
    CurrentTailnet: { Name: 'someone@example.com', MagicDNSSuffix: 'tail1234.ts.net', MagicDNSEnabled: true },
    CertDomains: [DNS],
    Peer: {},
    User: { '1234567': { ID: 1234567, LoginName: 'someone@example.com', DisplayName: 'Someone' } },
  };
}

/** Install a stand-in tailscale in its own bin folder; it keeps its Serve config in a state file. */
function fakeTailscale(name: string, opts: { status?: object; serve?: object; config?: object } = {}) {
  const dir = path.join(tmp, name);
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin, { recursive: true });
  const record = path.join(dir, 'calls.log');
  const state = path.join(dir, 'serve.json');
  fs.writeFileSync(path.join(dir, 'status.json'), JSON.stringify(opts.status ?? statusJson(), null, 2));
  fs.writeFileSync(state, JSON.stringify(opts.serve ?? {}));
  const script = `#!${process.execPath}
const fs = require('fs');
const args = process.argv.slice(2);
const a = args.join(' ');
fs.appendFileSync(${JSON.stringify(record)}, a + '\\n');
if (process.env.ANTHROPIC_API_KEY || process.env.SOME_TOKEN) fs.appendFileSync(${JSON.stringify(record)}, 'LEAKED A SECRET IN THE ENVIRONMENT\\n');
const state = JSON.parse(fs.readFileSync(${JSON.stringify(state)}, 'utf8'));
const save = () => fs.writeFileSync(${JSON.stringify(state)}, JSON.stringify(state));
const key = ${JSON.stringify(DNS + ':443')};
if (a === 'status --json') { process.stdout.write(fs.readFileSync(${JSON.stringify(path.join(dir, 'status.json'))}, 'utf8')); process.exit(0); }
if (a === 'serve status --json') { process.stdout.write(JSON.stringify(state, null, 2)); process.exit(0); }
const m = /^(serve|funnel) --bg --yes --https=443 (\\S+)$/.exec(a);
if (m) {
  state.TCP = { '443': { HTTPS: true } };
  state.Web = { [key]: { Handlers: { '/': { Proxy: m[2] } } } };
  if (m[1] === 'funnel') state.AllowFunnel = { [key]: true };
  save();
  console.log('Available within your tailnet:\\n\\nhttps://' + ${JSON.stringify(DNS)} + '/\\n|-- proxy ' + m[2] + '\\n\\nServe started and running in the background.');
  process.exit(0);
}
if (a === 'funnel --https=443 off') { delete state.AllowFunnel; save(); process.exit(0); }
if (a === 'serve --https=443 off') { for (const k of Object.keys(state)) delete state[k]; save(); process.exit(0); }
process.stderr.write('stand-in tailscale: unexpected arguments: ' + a + '\\n');
process.exit(2);
`;
  fs.writeFileSync(path.join(bin, 'tailscale'), script, { mode: 0o755 });
  const home = path.join(dir, 'home');
  fs.mkdirSync(home, { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(home, 'config.json'), JSON.stringify({ port: 7999, ...opts.config }));
  return {
    home,
    // Secrets in the caller's environment must not reach the programs Errand runs.
    env: {
      PATH: `${bin}:/usr/bin:/bin`,
      HOME: dir,
      ANTHROPIC_API_KEY: 'sk-ant-secret',
      SOME_TOKEN: 't',
    } as NodeJS.ProcessEnv,
    calls: () => (fs.existsSync(record) ? fs.readFileSync(record, 'utf8').trim().split('\n').filter(Boolean) : []),
    serve: () => JSON.parse(fs.readFileSync(state, 'utf8')) as Record<string, unknown>,
    config: () => JSON.parse(fs.readFileSync(path.join(home, 'config.json'), 'utf8')) as Record<string, unknown>,
  };
}

function io(env: NodeJS.ProcessEnv, interactive = false, answer = false) {
  const out: string[] = [];
  const err: string[] = [];
  const value: CliIO = {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    env,
    interactive,
    confirm: async () => answer,
  };
  return { io: value, out: () => out.join('\n'), err: () => err.join('\n') };
}

const expose = makeExposeCommand({ followUpMs: 0 });
const run = (home: string, positionals: string[], values: Record<string, boolean>, t: ReturnType<typeof io>) =>
  expose.run({ home, positionals, values }, t.io);

describe('errand expose tailscale', () => {
  it('serves the daemon over HTTPS in the tailnet and saves the https name as publicUrl', async () => {
    const ts = fakeTailscale('serve');
    const t = io(ts.env);
    expect(await run(ts.home, ['tailscale'], {}, t)).toBe(0);
    expect(ts.calls()).toEqual([
      'status --json',
      'serve status --json',
      'serve --bg --yes --https=443 http://127.0.0.1:7999',
    ]);
    expect(ts.config()).toEqual({ port: 7999, publicUrl: `https://${DNS}` });
    expect(t.out()).toContain(`https://${DNS}`);
    expect(t.out()).not.toMatch(/funnel/i);
    expect(ts.serve().AllowFunnel).toBeUndefined();

    // `expose` (status) reports it; `expose off` undoes it.
    const s = io(ts.env);
    expect(await run(ts.home, [], {}, s)).toBe(0);
    expect(s.out()).toContain(`Tailscale Serve: on, https://${DNS}`);

    const off = io(ts.env);
    expect(await run(ts.home, ['off'], {}, off)).toBe(0);
    expect(ts.calls().slice(-3)).toEqual(['status --json', 'serve status --json', 'serve --https=443 off']);
    expect(ts.serve()).toEqual({});
    expect(ts.config()).toEqual({ port: 7999 });
    expect(off.out()).toContain(`Removed publicUrl (https://${DNS})`);
  });

  it('under bind "::1" Serve forwards to [::1], where the daemon answers, and status knows it as ours', async () => {
    const ts = fakeTailscale('serve-ipv6', { config: { bind: '::1' } });
    const t = io(ts.env);
    expect(await run(ts.home, ['tailscale'], {}, t)).toBe(0);
    expect(ts.calls().at(-1)).toBe('serve --bg --yes --https=443 http://[::1]:7999');
    const s = io(ts.env);
    expect(await run(ts.home, [], {}, s)).toBe(0);
    expect(s.out()).toContain(`Tailscale Serve: on, https://${DNS}`);
  });

  it('never uses Funnel without --funnel, and with it warns loudly and wants a yes', async () => {
    const ts = fakeTailscale('funnel');
    const refused = io(ts.env);
    expect(await run(ts.home, ['tailscale'], { funnel: true }, refused)).toBe(1);
    expect(refused.err()).toContain('PUBLIC INTERNET');
    expect(refused.err()).toContain('--yes');
    expect(ts.calls()).toEqual([]);
    expect(ts.config().publicUrl).toBeUndefined();

    const declined = io(ts.env, true, false);
    expect(await run(ts.home, ['tailscale'], { funnel: true }, declined)).toBe(1);
    expect(ts.calls()).toEqual([]);

    const t = io(ts.env);
    expect(await run(ts.home, ['tailscale'], { funnel: true, yes: true }, t)).toBe(0);
    expect(ts.calls().at(-1)).toBe('funnel --bg --yes --https=443 http://127.0.0.1:7999');
    expect(t.err()).toContain('PUBLIC INTERNET');
    expect(ts.serve().AllowFunnel).toEqual({ [`${DNS}:443`]: true });

    // Going back to plain Serve turns Funnel off first.
    expect(await run(ts.home, ['tailscale'], {}, io(ts.env))).toBe(0);
    expect(ts.calls().slice(-2)).toEqual([
      'funnel --https=443 off',
      'serve --bg --yes --https=443 http://127.0.0.1:7999',
    ]);
    expect(ts.serve().AllowFunnel).toBeUndefined();
  });

  it('does not take over another service on :443 without --force, and off leaves it alone', async () => {
    const other = {
      TCP: { '443': { HTTPS: true } },
      Web: { [`${DNS}:443`]: { Handlers: { '/': { Proxy: 'http://127.0.0.1:3000' } } } },
    };
    const ts = fakeTailscale('other', { serve: other });
    const t = io(ts.env);
    expect(await run(ts.home, ['tailscale'], {}, t)).toBe(1);
    expect(t.err()).toContain('http://127.0.0.1:3000');
    expect(t.err()).toContain('--force');
    expect(ts.serve()).toEqual(other);

    const off = io(ts.env);
    expect(await run(ts.home, ['off'], {}, off)).toBe(0);
    expect(ts.calls()).not.toContain('serve --https=443 off');
    expect(off.out()).toContain('left as it is');

    expect(await run(ts.home, ['tailscale'], { force: true }, io(ts.env))).toBe(0);
    expect(ts.calls().at(-1)).toBe('serve --bg --yes --https=443 http://127.0.0.1:7999');
  });

  it('explains what to do when Tailscale is logged out or not installed', async () => {
    const ts = fakeTailscale('stopped', {
      status: { ...statusJson('NeedsLogin'), Self: { ...statusJson().Self, DNSName: '' } },
    });
    const t = io(ts.env);
    expect(await run(ts.home, ['tailscale'], {}, t)).toBe(1);
    expect(t.err()).toMatch(/not connected \(state: NeedsLogin\)/);
    expect(t.err()).toContain('tailscale up');
    expect(ts.calls()).toEqual(['status --json']);

    const none = io({ PATH: path.join(tmp, 'nothing-here') });
    expect(await run(ts.home, ['tailscale'], {}, none)).toBe(1);
    expect(none.err()).toContain('https://tailscale.com/download');
  });

  it('parses the DNS name without its trailing dot', () => {
    expect(parseStatus(JSON.stringify(statusJson())).dnsName).toBe(DNS);
  });
});

describe('errand expose url / lan', () => {
  it('saves an https origin for your own proxy and refuses plain http', async () => {
    const ts = fakeTailscale('url');
    const bad = io(ts.env);
    expect(await run(ts.home, ['url', 'http://errand.example.com'], {}, bad)).toBe(2);
    expect(bad.err()).toContain('https://');
    const t = io(ts.env);
    expect(await run(ts.home, ['url', 'https://errand.example.com/'], {}, t)).toBe(0);
    expect(ts.config().publicUrl).toBe('https://errand.example.com');
    expect(t.out()).toContain('http://127.0.0.1:7999');
  });

  it('turns LAN mode on with a warning about what will not work', async () => {
    const ts = fakeTailscale('lan');
    const t = io(ts.env);
    expect(await run(ts.home, ['lan'], {}, t)).toBe(0);
    expect(t.err()).toMatch(/plain HTTP/);
    expect(t.err()).toMatch(/push notifications/);
    expect(ts.config().lan).toBe(true);
    expect(await run(ts.home, ['off'], {}, io(ts.env))).toBe(0);
    expect(ts.config().lan).toBeUndefined();
  });
});

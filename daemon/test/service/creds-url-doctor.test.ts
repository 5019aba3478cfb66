// A model proxy URL with a user name and password (`http://user:pass@host`, which the model client
// sends as Basic auth): `errand doctor` never prints the password, checks the endpoint with those
// credentials as an Authorization header (fetch refuses them in the URL), and does not call a
// request fetch refused before any network traffic "offline".
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIO } from '../../src/cli/command.js';
import { makeDoctorCommand } from '../../src/cli/commands/doctor.js';
import type { Check } from '../../src/doctor/index.js';
import { recordingRunner } from '../../src/service/runner.js';
import { tempHome } from '../helpers/daemon.js';

const PASSWORD = 'S3cretProxyPass';
const GOOD = `Basic ${Buffer.from(`proxyuser:${PASSWORD}`).toString('base64')}`;

/** A model proxy that wants Basic auth: 200 for /v1/models with the right login, 401 without. */
let server: http.Server;
let origin: string;
const seen: Array<string | undefined> = [];
beforeAll(async () => {
  server = http.createServer((req, res) => {
    seen.push(req.headers.authorization);
    res.writeHead(req.headers.authorization === GOOD ? 200 : 401, { 'content-type': 'application/json' });
    res.end('{"data":[]}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function doctor(config: Record<string, unknown>, fetchImpl?: typeof fetch) {
  const home = tempHome('errand-creds-doctor-');
  fs.writeFileSync(path.join(home, 'config.json'), JSON.stringify(config));
  const env = { PATH: '/usr/bin:/bin', HOME: home, XDG_CONFIG_HOME: path.join(home, 'xdg') };
  const printed: string[] = [];
  const io: CliIO = {
    out: (t) => printed.push(t),
    err: (t) => printed.push(t),
    env,
    interactive: false,
    confirm: async () => false,
  };
  const cmd = makeDoctorCommand({ run: recordingRunner().run, platform: 'linux', fetch: fetchImpl, timeoutMs: 3000 });
  await cmd.run({ home, values: { json: true }, positionals: [] }, io);
  const report = JSON.parse(printed[0]) as { checks: Check[] };
  await cmd.run({ home, values: {}, positionals: [] }, io);
  return { all: printed.join('\n'), check: (id: string) => report.checks.find((c) => c.id === id)! };
}

describe('errand doctor with a model URL that holds a user name and password', () => {
  it('checks the endpoint with the login as a Basic header and shows the URL without it', async () => {
    seen.length = 0;
    const d = await doctor({ anthropic: { baseUrl: `http://proxyuser:${PASSWORD}@${origin}` } });
    expect(d.all).not.toContain(PASSWORD);
    expect(d.all).not.toContain('proxyuser');
    expect(d.check('model')).toMatchObject({ status: 'ok', detail: `http://${origin} answers (HTTP 200)` });
    expect(seen).toEqual([GOOD, GOOD]); // once for --json, once for the text
    // The API key check names the server too.
    expect(d.check('apiKey').detail).toContain(`your model server at http://${origin} needs none`);
  });

  it('says a wrong login was rejected, without printing it', async () => {
    const d = await doctor({ anthropic: { baseUrl: `http://proxyuser:Wr0ngPass@${origin}/` } });
    expect(d.all).not.toContain('Wr0ngPass');
    expect(d.check('model')).toMatchObject({
      status: 'fail',
      detail: `http://${origin} rejected the user name and password (HTTP 401)`,
    });
  });

  it('a request fetch refused before any traffic is "this URL cannot be used", not offline', async () => {
    const refusing: typeof fetch = async () => {
      throw new TypeError(`Request cannot be constructed from a URL that includes credentials: http://u:${PASSWORD}@x`);
    };
    const d = await doctor({ anthropic: { baseUrl: `http://proxyuser:${PASSWORD}@${origin}` } }, refusing);
    expect(d.all).not.toContain(PASSWORD);
    const model = d.check('model');
    expect(model.detail).toContain(`this URL cannot be used: http://${origin}`);
    expect(model.detail).not.toContain('offline');
    expect(model.fix).toContain('anthropic.baseUrl');

    // A real network failure is still "may be offline".
    const offline: typeof fetch = async () => {
      throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ENOTFOUND' } });
    };
    const o = await doctor({ anthropic: { baseUrl: `http://proxyuser:${PASSWORD}@${origin}` } }, offline);
    expect(o.check('model')).toMatchObject({ status: 'unknown' });
    expect(o.check('model').detail).toBe(`could not reach http://${origin} (ENOTFOUND); this computer may be offline`);
    expect(o.all).not.toContain(PASSWORD);
  });

  it('never quotes the API key from a header fetch refused', async () => {
    const key = 'sk-ant-api03-bad\nkey';
    // The built-in fetch refuses this header value before connecting, quoting it in its message.
    const d = await doctor({ anthropic: { apiKey: key } });
    expect(d.all).not.toContain('sk-ant-api03-bad');
    expect(d.check('model').detail).toContain('the request to https://api.anthropic.com could not be made');
    expect(d.check('model').detail).not.toContain('offline');
  });
});

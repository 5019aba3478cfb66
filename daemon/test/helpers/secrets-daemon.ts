// A daemon whose API key and a connector secret are known, against a scripted model API, with a
// phone connected: for tests that check no secret reaches a phone, the store or the model.
import fs from 'node:fs';
import path from 'node:path';
import { startTestDaemon, type TestDaemon, tempHome } from './daemon.js';
import { type ModelServer, startModelServer } from './model-server.js';

export const API_KEY = 'sk-ant-api03-SECRETSECRETSECRET0123456789';
export const CONNECTOR_SECRET = 'mail-token-7f3a9c2e4b1d8056';

export type Phone = Awaited<ReturnType<TestDaemon['connect']>>;

export interface SecretsDaemon {
  model: ModelServer;
  td: TestDaemon;
  home: string;
  phone: Phone;
  /** What the daemon was started with, to start it again on the same home. */
  opts: Parameters<typeof startTestDaemon>[0] & { home: string };
}

/** Start it; the caller stops `td`, closes `model` and removes `home`. */
export async function startWithSecrets(config: Record<string, unknown> = {}, prefix?: string): Promise<SecretsDaemon> {
  const model = await startModelServer();
  const home = tempHome(prefix);
  fs.writeFileSync(path.join(home, 'secrets.json'), JSON.stringify({ 'connector.mail.env.TOKEN': CONNECTOR_SECRET }), {
    mode: 0o600,
  });
  const opts = { home, config: { anthropic: { apiKey: API_KEY, baseUrl: model.url }, ...config } };
  const td = await startTestDaemon(opts);
  return { model, td, home, phone: await td.connect(), opts };
}

/** Send a message that starts a task and wait until that task is done. */
export async function runToDone(phone: Phone, msg: Parameters<Phone['send']>[0]) {
  const made = await phone.send<{ thread: { id: string }; task: { id: string } }>(msg);
  await phone.event('task.updated', (e) => e.task.id === made.task.id && e.task.state === 'done', 20_000);
  return made;
}

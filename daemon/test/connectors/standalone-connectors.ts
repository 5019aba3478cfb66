// A ConnectorManager on its own temp home, with the connectors.* control methods on that home's
// socket (so `errand connectors …` can be run against it), and scripted-tools-server.mjs fixtures
// whose tool list a test rewrites.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ServerEvent } from '../../../shared/src/index.js';
import { type CliCommand, parseCommandArgs } from '../../src/cli/command.js';
import { connectorsCommand } from '../../src/cli/commands/connectors.js';
import { homePaths } from '../../src/config/paths.js';
import { ConnectorConfig } from '../../src/config/schema.js';
import { ControlServer } from '../../src/control/server.js';
import { registerConnectorControl } from '../../src/tools/connectors/control.js';
import { ConnectorManager, type ConnectorManagerOptions } from '../../src/tools/connectors/index.js';
import { createLogger } from '../../src/util/log.js';

export const SCRIPTED = path.resolve('daemon/test/connectors/scripted-tools-server.mjs');

/** `errand connectors …` run in this process on `home` (no daemon, no terminal), with what it printed. */
export async function connectorsOnHome(home: string, argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const parsed = parseCommandArgs(connectorsCommand, argv);
  const code = await connectorsCommand.run(
    { values: parsed.values, positionals: parsed.positionals, home },
    { out: (t) => out.push(t), err: (t) => err.push(t), env: {}, interactive: false, confirm: async () => false },
  );
  return { code, out: out.join('\n'), err: err.join('\n') };
}

export interface Standalone {
  home: string;
  manager: ConnectorManager;
  control: ControlServer;
  events: ServerEvent[];
  /** A stdio connector running the scripted server over `tools` (rewrite them with setTools). */
  scripted(name: string, tools: unknown[]): ConnectorConfig;
  setTools(name: string, tools: unknown[]): void;
  cli(
    cmd: CliCommand,
    argv: string[],
    confirm?: () => Promise<boolean>,
  ): Promise<{ code: number; out: string; err: string }>;
  close(): Promise<void>;
}

export async function standaloneConnectors(opts: Partial<ConnectorManagerOptions> = {}): Promise<Standalone> {
  const home = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'errand-conn-')));
  const paths = homePaths(home);
  const log = createLogger({ dir: paths.logs, level: 'warn' });
  const events: ServerEvent[] = [];
  const manager = new ConnectorManager({
    home,
    secretsFile: paths.secrets,
    log,
    version: 'test',
    emit: async (e) => {
      events.push(e);
      return events.length;
    },
    backoffMs: 60_000,
    ...opts,
  });
  const control = new ControlServer(paths.socket, log);
  registerConnectorControl(control, manager);
  await control.listen();
  const stateOf = (name: string) => path.join(home, `${name}-tools.json`);
  return {
    home,
    manager,
    control,
    events,
    scripted(name, tools) {
      fs.writeFileSync(stateOf(name), JSON.stringify({ tools }));
      return ConnectorConfig.parse({
        name,
        transport: 'stdio',
        command: process.execPath,
        args: [SCRIPTED, stateOf(name)],
      });
    },
    setTools(name, tools) {
      fs.writeFileSync(stateOf(name), JSON.stringify({ tools }));
    },
    async cli(cmd, argv, confirm = async () => false) {
      const out: string[] = [];
      const err: string[] = [];
      const parsed = parseCommandArgs(cmd, argv);
      const code = await cmd.run(
        { values: parsed.values, positionals: parsed.positionals, home },
        { out: (t) => out.push(t), err: (t) => err.push(t), env: {}, interactive: false, confirm },
      );
      return { code, out: out.join('\n'), err: err.join('\n') };
    },
    async close() {
      await manager.stop();
      await control.close();
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
}

export async function until<T>(fn: () => T | undefined | false, what: string, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

// The one daemon context tests build by hand, for modules started without a whole daemon (the
// agent harness, the tools harness): real paths, command router, control server and event log;
// the configuration held in memory or re-read from config.json; the host status composed from
// the modules the test adds, as daemon.ts composes it. Tests of a whole daemon use helpers/daemon.ts.
import fs from 'node:fs';
import type { HostStatus } from '../../../shared/src/index.js';
import { webStatus } from '../../src/agent/web-commands.js';
import { homePaths } from '../../src/config/paths.js';
import { type Config, ConfigSchema } from '../../src/config/schema.js';
import type { DaemonContext, DaemonModule } from '../../src/context.js';
import { ControlServer } from '../../src/control/server.js';
import { CommandRouter } from '../../src/server/command-router.js';
import type { EventLog } from '../../src/store/event-log.js';
import type { Store } from '../../src/store/index.js';
import { UploadStore } from '../../src/store/uploads.js';
import { createLogger, type Logger } from '../../src/util/log.js';

export interface TestContextOptions {
  home: string;
  config: Config;
  /** reloadConfig re-reads config.json; without it the configuration stays as given. Either way it tells the listeners. */
  reloadFromFile?: boolean;
  /** Where emitted events are written (the store's event log when there is a store). */
  events: EventLog;
  /** The store; tests of the tools alone run without one. */
  store?: Store;
  log?: Logger;
}

export interface TestContext {
  ctx: DaemonContext;
  /** A module the test started: ctx.status() shows its part from now on. Returns it. */
  add<M extends Pick<DaemonModule, 'status'>>(module: M): M;
}

export function testContext(opts: TestContextOptions): TestContext {
  const paths = homePaths(opts.home);
  const log = opts.log ?? createLogger({ level: 'error' });
  let config = opts.config;
  const listeners: Array<(c: Config) => void> = [];
  const modules: Array<Pick<DaemonModule, 'status'>> = [];
  const ctx: DaemonContext = {
    paths,
    config: () => config,
    reloadConfig: () => {
      // Without a file the configuration is the one given (a test may change it in place): the
      // listeners are told all the same, as the daemon tells them after every reload.
      if (opts.reloadFromFile) config = ConfigSchema.parse(JSON.parse(fs.readFileSync(paths.config, 'utf8')));
      for (const l of listeners) l(config);
      return config;
    },
    onConfigChange: (l) => {
      listeners.push(l);
    },
    store: opts.store ?? (undefined as never),
    commands: new CommandRouter(),
    control: new ControlServer(paths.socket, log),
    log,
    presence: { online: () => false, viewing: () => false },
    uploads: new UploadStore(paths.uploads),
    emit: (event) => opts.events.append(event),
    status: () => Object.assign({}, webStatus(config), ...modules.map((m) => m.status?.())) as HostStatus,
    origins: () => ['http://127.0.0.1:0'],
    listening: () => ['http://127.0.0.1:0'],
    version: 'test',
    startedAt: Date.now(),
  };
  return {
    ctx,
    add: (module) => {
      modules.push(module);
      return module;
    },
  };
}

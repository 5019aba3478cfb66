// Boots the daemon: home folder, configuration, lock, store, modules, HTTP + WebSocket server and
// the local control socket. `main` (cli/commands/start.ts) only calls this.
import fs from 'node:fs';
import os from 'node:os';
import type { FastifyInstance } from 'fastify';
import type { HostStatus, ServerEvent } from '../../shared/src/index.js';
import { webStatus } from './agent/web-commands.js';
import { type LoadOptions, loadConfig, makeConfigFilePrivate } from './config/load.js';
import { homePaths } from './config/paths.js';
import type { Config } from './config/schema.js';
import { payOwedConfigChanges } from './config-changes.js';
import type { DaemonContext, DaemonModule } from './context.js';
import { ControlServer } from './control/server.js';
import { registerCoreCommands } from './core-commands.js';
import { type ModuleOptions, startModules } from './modules.js';
import { Pairing } from './pairing/pairing.js';
import { buildApp } from './server/app.js';
import { CommandRouter } from './server/command-router.js';
import { Gateway } from './server/gateway.js';
import { LiveOriginPolicy, phoneOrigin, servedOrigins, shownOrigins } from './server/origins.js';
import { FailureLimiter } from './server/rate-limit.js';
import { RefusalLog } from './server/refusals.js';
import { DiskFullAtStartError, openStore } from './store/index.js';
import { DiskFullError } from './store/journal.js';
import { acquireLock } from './store/lock.js';
import { UploadStore } from './store/uploads.js';
import { createLogger, type Logger } from './util/log.js';
import { trimMemoryWhenIdle } from './util/memory-trim.js';
import { optimizeFromNow } from './util/optimizing-compiler.js';

const STARTUP_GC_DELAY_MS = 500;

import { VERSION } from './version.js';

export interface DaemonOptions extends LoadOptions, ModuleOptions {
  /** Also write readable log lines to stderr (foreground runs). */
  logToStderr?: boolean;
  pwaDir?: string;
  /** An upload or download that moves no byte for this long is dropped (tests shorten the minute). */
  transferIdleMs?: number;
}

export interface Daemon {
  ctx: DaemonContext;
  app: FastifyInstance;
  pairing: Pairing;
  gateway: Gateway;
  /** The origin QR codes use. */
  url: string;
  port: number;
  /** Resolves once every module's work started so far has settled (pushes attempted …). */
  idle(): Promise<void>;
  stop(reason?: string): Promise<void>;
}

function ensureHome(home: string): void {
  fs.mkdirSync(home, { recursive: true, mode: 0o700 });
  fs.chmodSync(home, 0o700);
}

export async function startDaemon(opts: DaemonOptions): Promise<Daemon> {
  const startedAt = Date.now();
  ensureHome(opts.home);
  // The real path: tools open every folder without following links, so a home reached through a
  // link (a stow-managed ~/.local, ERRAND_HOME under a linked folder) would look swapped to them.
  const paths = homePaths(fs.realpathSync(opts.home));
  let config: Config = loadConfig(opts);
  const lock = acquireLock(paths.lock);
  let log: Logger | undefined;
  const modules: DaemonModule[] = [];
  try {
    log = createLogger({ dir: paths.logs, level: config.log.level, stderr: opts.logToStderr });
    const configExposed = makeConfigFilePrivate(paths.config);
    if (configExposed) log.warn(configExposed);
    const store = await openStore(paths);
    const commands = new CommandRouter();
    const control = new ControlServer(paths.socket, log);
    const limiter = new FailureLimiter();
    const refusals = new RefusalLog(log);
    const uploads = new UploadStore(paths.uploads);
    // Before any command can use an upload: settles what a crash left (partial uploads, messages half made).
    void uploads
      .sweep(store)
      .catch((err) => log!.warn('could not clear old uploads', { error: (err as Error).message }));
    const gateway = new Gateway({
      devices: store.devices,
      events: store.events,
      threads: store.threads,
      commands: store.commands,
      router: commands,
      limiter,
      refusals,
      log,
      hostId: store.threads.hostId,
    });
    const pairing = new Pairing(store.devices);
    const configListeners: Array<(c: Config) => void> = [];
    let listenPort = config.port;
    // In LAN mode it follows the interfaces while the daemon runs (Wi-Fi up after a start at boot).
    const policy = new LiveOriginPolicy(config, listenPort);
    let boundHost = config.lan ? '0.0.0.0' : config.bind;
    // The accepted origins, less one that is only an accepted Host here ([::1] on a 127.0.0.1 socket).
    const origins = () => shownOrigins(policy.origins(), boundHost);

    const ctx: DaemonContext = {
      paths,
      config: () => config,
      reloadConfig: () => {
        const next = loadConfig(opts);
        config = next;
        policy.reconfigure(config, listenPort);
        for (const l of configListeners) l(config);
        log!.info('configuration reloaded');
        return config;
      },
      onConfigChange: (l) => {
        configListeners.push(l);
      },
      store,
      commands,
      control,
      log,
      presence: gateway,
      uploads,
      emit: (event: ServerEvent) => store.events.append(event),
      status: () => {
        const base: HostStatus = {
          name: config.hostName ?? os.hostname(),
          version: VERSION,
          os: `${os.type()} ${os.release()}`,
          startedAt,
          origins: origins(),
          roots: [],
          connectors: [],
          sandbox: { enabled: false, reason: 'tools not loaded' },
          apiKeyConfigured: !!config.anthropic.apiKey,
          model: config.anthropic.model,
          runningTasks: 0,
          queuedTasks: 0,
          keepAwake: false,
        };
        // Each started module's part (roots, sandbox, running tasks …) over the core's fields.
        const parts = [webStatus(config), ...modules.map((m) => m.status?.())];
        return parts.reduce<HostStatus>((s, part) => ({ ...s, ...part }), base);
      },
      origins,
      listening: () => servedOrigins(policy.origins(), boundHost),
      version: VERSION,
      startedAt,
    };

    registerCoreCommands(ctx, gateway, pairing);
    const { fileDownload, pushReceipt } = await startModules(ctx, modules, opts);
    // A phone's config change a kill cut off from its record: paid before any command can come (config-changes.ts).
    await payOwedConfigChanges(ctx);

    const app = await buildApp({
      version: VERSION,
      hostName: config.hostName ?? os.hostname(),
      policy: () => policy.current(),
      gateway,
      pairing,
      devices: store.devices,
      uploads,
      limiter,
      refusals,
      log,
      fileDownload: () => fileDownload,
      pushReceipt: () => pushReceipt,
      pwaDir: opts.pwaDir,
      transferIdleMs: opts.transferIdleMs,
    });
    const host = config.lan ? '0.0.0.0' : config.bind;
    await app.listen({ port: config.port, host });
    const address = app.server.address();
    listenPort = typeof address === 'object' && address ? address.port : config.port;
    if (typeof address === 'object' && address) boundHost = address.address;
    policy.reconfigure(config, listenPort);
    await control.listen();
    // Answer first; then read the older events a resuming phone may ask for (resumes wait for them).
    // Start-up's garbage (history read for the replay window) is freed once, so the daemon idles
    // small: a moment after start, so the first requests (a phone reconnecting to a restarted
    // daemon) do not wait on that collection (~40 ms).
    // Start-up is over then too: V8 may optimize from now on (util/optimizing-compiler.ts).
    const idleTrim = trimMemoryWhenIdle();
    setTimeout(
      () =>
        void store.events
          .ready()
          .catch(() => undefined)
          .then(() => {
            optimizeFromNow();
            idleTrim.afterStartup();
          }),
      STARTUP_GC_DELAY_MS,
    ).unref();

    // Hand-edits of config.json are picked up too (CLI edits call config.reload at once).
    fs.watchFile(paths.config, { interval: 2000, persistent: false }, (curr, prev) => {
      if (curr.mtimeMs === prev.mtimeMs) return;
      try {
        ctx.reloadConfig();
      } catch (err) {
        log!.error('config.json is invalid; keeping the previous configuration', { error: (err as Error).message });
      }
    });

    let stopping: Promise<void> | undefined;
    const stop = (reason = 'stop') => {
      stopping ??= (async () => {
        try {
          log!.info('stopping', { reason });
          idleTrim.stop();
          fs.unwatchFile(paths.config);
          gateway.close();
          for (const m of [...modules].reverse())
            await m.stop().catch((err) => log!.error('module stop failed', { error: (err as Error).message }));
          await app.close();
          await control.close();
          // What is written at stop can fail (a full disk): that is said, and the stop goes on. Every
          // acknowledged change is already in the journal; what these writes keep (a snapshot,
          // last-seen times) only makes the next start quicker and the device list fresher.
          const said = (text: string) => (err: unknown) => log!.warn(text, { error: (err as Error).message });
          await store.devices
            .flush()
            .catch(
              said("stopped without saving the paired devices' last-seen times; the device list shows older ones"),
            );
          await store
            .close()
            .catch(
              said(
                'the store did not close cleanly; every acknowledged change is in the journal, and the next start reads it',
              ),
            );
          log!.info('stopped');
        } finally {
          // Whatever failed above, the next daemon must be able to take the home folder.
          log!.close();
          lock.release();
        }
      })();
      return stopping;
    };
    // What opening the store found and fixed (a torn journal tail, a migration) is said, not hidden.
    for (const text of store.journal.notices) {
      log.warn(text);
      void ctx.emit({ kind: 'notice', level: 'warning', text, at: Date.now() }).catch(() => undefined);
    }
    // A snapshot that could not be written (a damaged part it copies) is logged, not swallowed.
    store.journal.onWarning((text) => log?.warn(text));
    log.info('started', { version: VERSION, origins: origins(), home: paths.home });
    return {
      ctx,
      app,
      pairing,
      gateway,
      // Of the addresses the socket serves: under `bind: "::1"` nothing answers at 127.0.0.1.
      url: phoneOrigin(ctx.listening()).origin,
      port: listenPort,
      idle: async () => {
        await Promise.all(modules.map((m) => m.idle?.()));
      },
      stop,
    };
  } catch (err) {
    for (const m of [...modules].reverse()) await m.stop().catch(() => undefined);
    log?.close();
    lock.release();
    // Full while starting up (recovering tasks, schedules): the same environment error as a full
    // disk while opening the store, so the service manager is told it is not a crash.
    if (err instanceof DiskFullError) throw new DiskFullAtStartError(err.dir);
    throw err;
  }
}

// The daemon's core services (built by daemon.ts, the composition root). Each module is started
// with the part of it that it uses (its Deps type), plus what earlier modules handed forward; it
// returns its own outputs (a status part, HTTP handlers) instead of setting them on the context.
// Modules publish events through `emit`, register client commands on `commands` and local CLI
// methods on `control`; none of them reaches back into the server.
import type { Readable } from 'node:stream';
import type { HostStatus, PushReceipt, ServerEvent } from '../../shared/src/index.js';
import type { HomePaths } from './config/paths.js';
import type { Config } from './config/schema.js';
import type { ControlServer } from './control/server.js';
import type { CommandRouter } from './server/command-router.js';
import type { Store } from './store/index.js';
import type { UploadStore } from './store/uploads.js';
import type { Logger } from './util/log.js';

export interface Presence {
  /** Devices with a live authenticated connection. */
  online(deviceId: string): boolean;
  /** True when the device says it shows this thread in the foreground right now. */
  viewing(deviceId: string, threadId: string): boolean;
}

export type FileDownloadHandler = (
  taskId: string,
  path: string,
  /** The paired device downloading (for the audit log). */
  by: { id: string; name: string },
) => Promise<
  | {
      name: string;
      mediaType: string;
      /** Bytes the stream gives: the file's size when it was opened. */
      size: number;
      /** The file's bytes, read from the handle opened without following links; destroy it to close the file. */
      stream: Readable;
    }
  /** Not given out, and why (a file that holds a secret Errand knows). */
  | { refused: string }
  | undefined
>;

/**
 * Record a push receipt from a service worker: resolves true once it is durable, false when the push
 * id is unknown; rejects when it could not be stored (a full disk), so the worker keeps it and retries.
 */
export type PushReceiptHandler = (receipt: PushReceipt) => Promise<boolean>;

export interface DaemonContext {
  paths: HomePaths;
  /** The current configuration; re-read when config.json changes (roots, connectors). */
  config(): Config;
  /** Re-read config.json now and tell listeners; returns the new config. */
  reloadConfig(): Config;
  onConfigChange(listener: (config: Config) => void): void;
  store: Store;
  commands: CommandRouter;
  control: ControlServer;
  log: Logger;
  presence: Presence;
  /** Files the phone uploaded, waiting for the message that uses them. */
  uploads: UploadStore;
  /** Persist an event with the next sequence number, then send it to every connected device. */
  emit(event: ServerEvent): Promise<number>;
  /** The host status: the core's fields with every started module's part. */
  status(): HostStatus;
  /** The origins the phone may use: loopback, publicUrl, LAN. The first is the one QR codes use. */
  origins(): string[];
  /** Of those, the ones the listening socket serves now (a LAN address set since the start needs a restart). */
  listening(): string[];
  version: string;
  startedAt: number;
}

/** A module's part of the host status (roots, sandbox, running tasks …); daemon.ts composes them. */
export type StatusPart = Partial<HostStatus>;

/** A module's handle; stopped in reverse start order on shutdown. */
export interface DaemonModule {
  stop(): Promise<void>;
  /** Its part of the host status, read each time the status is asked for. */
  status?(): StatusPart;
  /** Resolves once the work it started so far has settled (tests wait on this instead of sleeping). */
  idle?(): Promise<void>;
}

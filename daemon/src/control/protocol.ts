// The local control channel: newline-delimited JSON over a Unix socket (mode 0600) in the home
// folder. Browsers cannot reach it, which is why pairing codes are minted here.
// ControlMethods is the one description of every method: what the CLI sends and what it gets back.
// The daemon still checks each param it reads (the socket is a boundary); the types bind both ends.
import { z } from 'zod';
import type {
  ConnectorStatus,
  Device,
  HostStatus,
  MemoryEntry,
  MemoryListResult,
  PushOutcome,
  Schedule,
  ScheduleFields,
} from '../../../shared/src/index.js';

export const ControlRequest = z
  .object({
    id: z.number().int(),
    method: z.string().min(1).max(64),
    params: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();
export type ControlRequest = z.infer<typeof ControlRequest>;

/** A reply ends a call; a progress message (for long calls like `pair`) does not. */
export type ControlMessage =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: string }
  | { id: number; progress: unknown };

type NoParams = Record<string, never>;
type ScheduleInput = { [K in keyof typeof ScheduleFields]?: z.infer<(typeof ScheduleFields)[K]> };

/** What `status` answers: the host status plus the process, home folder, listening origins and devices. */
export type ControlStatus = HostStatus & { pid: number; home: string; listening: string[]; devices: Device[] };
export type ConnectorView = ConnectorStatus & { launch: string };
/** A connector tool's text as a person reviews it: what the model is sent, and the annotations Errand acts on. */
export interface ConnectorToolText {
  title?: string;
  /** The description exactly as the model reads it. */
  description: string;
  /** The input schema exactly as the model reads it, property descriptions included. */
  inputSchema: Record<string, unknown>;
  annotations?: unknown;
}
/**
 * One tool of connectors.tools. name, description and changed are all a daemon older than the
 * review by hash sends; such a daemon cannot be asked to pin what was shown.
 */
export interface ConnectorToolView extends Partial<ConnectorToolText> {
  name: string;
  description: string;
  changed: boolean;
  /** The hash connectors.accept takes: it enables exactly this text. */
  pin?: string;
  /** For a changed tool, the text accepted before (absent for a new tool, or a pin older than kept texts). */
  accepted?: ConnectorToolText;
}
export interface RootsView {
  roots: Array<{ path: string; real?: string; exists: boolean; problem?: string }>;
  workspace: string;
  sandbox: { enabled: boolean; reason?: string };
}
export interface TrashItem {
  id: string;
  originalPath: string;
  taskId: string;
  at: number;
}
export interface PushStatus {
  publicKey: string;
  subject: { subject: string; source: 'config' | 'publicUrl' | 'default'; problem?: string };
  subscriptions: Array<{ deviceId: string; device?: string; service: string; since: number; current: boolean }>;
}
export interface PushTestResult {
  deviceId: string;
  device?: string;
  outcome?: PushOutcome;
  error?: string;
}
export type PairProgress =
  | { type: 'code'; code: string; url: string; expiresAt: number; phoneReachable?: boolean; restartNeeded?: boolean }
  | { type: 'claim'; claim: { id: string; name: string; address?: string } };
export type PairResult =
  | { paired: { id: string; name: string; address?: string } }
  | { declined: true }
  | { expired: true }
  | { cancelled: true };
type ScheduleResult = { schedule: Schedule };

/** Every control method: its params, its result and (for long calls) its progress messages. */
export interface ControlMethods {
  status: { params: NoParams; result: ControlStatus };
  'config.reload': { params: NoParams; result: { reloaded: true } };
  'devices.list': { params: NoParams; result: Device[] };
  'devices.rename': { params: { deviceId: string; name: string }; result: Device };
  'devices.revoke': { params: { deviceId: string }; result: { revoked: string } };
  'pair.start': { params: { autoApprove?: boolean }; result: PairResult; progress: PairProgress };
  'pair.decide': { params: { claimId: string; approve: boolean }; result: { decided: boolean } };
  'push.status': { params: NoParams; result: PushStatus };
  'push.outcomes': { params: { deviceId?: string; limit?: number }; result: PushOutcome[] };
  /** One device (deviceId), or every device with notifications on (all: true). */
  'push.test': { params: { deviceId: string } | { all: true }; result: PushOutcome | PushTestResult[] };
  'roots.list': { params: NoParams; result: RootsView };
  'trash.list': { params: NoParams; result: { items: TrashItem[] } };
  'trash.restore': { params: { id: string }; result: { restored: string } };
  'connectors.list': { params: NoParams; result: { connectors: ConnectorView[] } };
  'connectors.tools': { params: { name: string }; result: { status: ConnectorStatus; tools: ConnectorToolView[] } };
  /**
   * Pins each tool named in `pins` to the hash connectors.tools showed for it, only if its text is
   * still the one shown; one that changed again stays in the status's changedTools.
   */
  'connectors.accept': {
    params: { name: string; pins: Record<string, string> };
    result: { connector: ConnectorStatus };
  };
  'memory.list': { params: NoParams; result: MemoryListResult };
  'memory.show': { params: { path: string }; result: { path: string; text: string } };
  'memory.edit': { params: { path: string; text: string }; result: { entry: MemoryEntry } };
  'memory.rm': { params: { path: string }; result: Record<string, never> };
  'memory.clear': { params: NoParams; result: { removed: number } };
  'schedules.list': { params: NoParams; result: { schedules: Schedule[] } };
  'schedules.add': { params: ScheduleInput & { text: string; when: Schedule['when'] }; result: ScheduleResult };
  'schedules.update': { params: ScheduleInput & { scheduleId: string }; result: ScheduleResult };
  'schedules.pause': { params: { scheduleId: string }; result: ScheduleResult };
  'schedules.resume': { params: { scheduleId: string }; result: ScheduleResult };
  'schedules.remove': { params: { scheduleId: string }; result: { removed: string; threadId?: string } };
  'schedules.run': { params: { scheduleId: string }; result: { schedule: Schedule; taskId: string; threadId: string } };
}
export type ControlMethod = keyof ControlMethods;
/** Every method by name (a missing or extra name fails to compile), for the check that a started daemon answers each. */
const methodNames: Record<ControlMethod, true> = {
  status: true,
  'config.reload': true,
  'devices.list': true,
  'devices.rename': true,
  'devices.revoke': true,
  'pair.start': true,
  'pair.decide': true,
  'push.status': true,
  'push.outcomes': true,
  'push.test': true,
  'roots.list': true,
  'trash.list': true,
  'trash.restore': true,
  'connectors.list': true,
  'connectors.tools': true,
  'connectors.accept': true,
  'memory.list': true,
  'memory.show': true,
  'memory.edit': true,
  'memory.rm': true,
  'memory.clear': true,
  'schedules.list': true,
  'schedules.add': true,
  'schedules.update': true,
  'schedules.pause': true,
  'schedules.resume': true,
  'schedules.remove': true,
  'schedules.run': true,
};
export const CONTROL_METHODS = Object.keys(methodNames) as ControlMethod[];
export type ControlParams<M extends ControlMethod> = ControlMethods[M]['params'];
export type ControlResult<M extends ControlMethod> = ControlMethods[M]['result'];
export type ControlProgress<M extends ControlMethod> = ControlMethods[M] extends { progress: infer P } ? P : never;

/**
 * The daemon's side of a method. Params arrive as the CLI sent them, unchecked: a handler validates
 * each one it reads. The result must be the method's.
 */
export type ControlHandler<M extends ControlMethod> = (
  params: Record<string, unknown>,
  ctx: { progress: (value: ControlProgress<M>) => void; signal: AbortSignal },
) => Promise<ControlResult<M>>;

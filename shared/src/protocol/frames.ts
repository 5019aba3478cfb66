// The frames on the WebSocket. The first client frame must be `auth`; after that, commands.
import { z } from 'zod';
import { ClientCommand, ErrorCode } from './commands.js';
import { Device, ThreadSummary, Timestamp } from './entities.js';
import { ServerEvent } from './events.js';

export const PROTOCOL_VERSION = 1;
/** Largest frame accepted before authentication, in bytes. */
export const MAX_PREAUTH_FRAME = 1024;
/** Largest frame accepted after authentication, in bytes. */
export const MAX_FRAME = 1024 * 1024;
/** The client must authenticate within this many milliseconds of connecting. */
export const AUTH_DEADLINE_MS = 5000;

export const AuthFrame = z
  .object({
    type: z.literal('auth'),
    token: z.string().min(1).max(200),
    /** The last event sequence number this client saw; the daemon sends everything after it. */
    lastSeq: z.number().int().nonnegative().optional(),
    /**
     * The `at` of the event numbered lastSeq, as the client received it. A host whose event of that
     * number has another `at` (a home restored from an older backup numbered new events the same)
     * sends a snapshot instead of the replay. Left out, the number alone is trusted.
     */
    lastAt: Timestamp.optional(),
    protocol: z.number().int().optional(),
  })
  .strict();
export type AuthFrame = z.infer<typeof AuthFrame>;

export const ClientFrame = z.union([AuthFrame, ClientCommand]);
export type ClientFrame = z.infer<typeof ClientFrame>;

export const EventFrame = z.object({
  type: z.literal('event'),
  seq: z.number().int().positive(),
  at: Timestamp,
  event: ServerEvent,
});
export type EventFrame = z.infer<typeof EventFrame>;

export const ServerFrame = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('auth.ok'),
    protocol: z.number().int(),
    device: Device,
    hostId: z.string(),
    /** The newest sequence number at the time of auth. */
    seq: z.number().int().nonnegative(),
  }),
  z.object({
    type: z.literal('reply'),
    id: z.string(),
    ok: z.literal(true),
    result: z.unknown(),
  }),
  z.object({
    type: z.literal('error'),
    /** The command id, when the frame could be read far enough to find one. */
    id: z.string().optional(),
    code: ErrorCode,
    message: z.string(),
  }),
  EventFrame,
  /** Sent instead of a replay when the client is too far behind: the current state, then live events after `seq`. */
  z.object({
    type: z.literal('snapshot'),
    seq: z.number().int().nonnegative(),
    /** The `at` of the event numbered `seq` (none before the first event): the client's next `lastAt`. */
    at: Timestamp.optional(),
    threads: z.array(ThreadSummary),
  }),
  /** Marks the end of the replay that follows auth; later events are live. */
  z.object({ type: z.literal('synced'), seq: z.number().int().nonnegative() }),
]);
export type ServerFrame = z.infer<typeof ServerFrame>;

/** WebSocket close codes the daemon uses (defined without zod, for the phone app's first-connect path). */
export { CloseCode } from '../close-codes.js';

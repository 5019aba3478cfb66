// The local control channel: newline-delimited JSON over a Unix socket (mode 0600) in the home
// folder. Browsers cannot reach it, which is why pairing codes are minted here.
import { z } from 'zod';

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

export type ControlHandler = (
  params: Record<string, unknown>,
  ctx: { progress: (value: unknown) => void; signal: AbortSignal },
) => Promise<unknown>;

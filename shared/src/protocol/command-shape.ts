// The shape every client command has: a client-chosen id (for exactly-once) and its type. In a file
// of its own so commands.ts and the per-feature command files share it without an import cycle.
import { z } from 'zod';

export const CommandId = z
  .string()
  .min(8)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/);

export const cmd = <T extends string, S extends z.ZodRawShape>(type: T, shape: S) =>
  z.object({ id: CommandId, type: z.literal(type), ...shape }).strict();

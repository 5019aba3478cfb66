// Plain HTTP endpoints beside the WebSocket (pairing and file transfer).
import { z } from 'zod';

export const PAIR_CODE_PATTERN = /^[A-Za-z0-9_-]{22,64}$/;

export const PairClaimRequest = z
  .object({
    code: z.string().regex(PAIR_CODE_PATTERN),
    name: z.string().trim().min(1).max(80),
  })
  .strict();
export type PairClaimRequest = z.infer<typeof PairClaimRequest>;

/** Before claiming: which computer this code pairs with (answered only for the live code). */
export const PairPeekRequest = z.object({ code: z.string().regex(PAIR_CODE_PATTERN) }).strict();
export const PairPeekResponse = z.object({ hostName: z.string().max(200) });
export type PairPeekResponse = z.infer<typeof PairPeekResponse>;

export const PairClaimResponse = z.object({ deviceId: z.string(), token: z.string(), hostName: z.string() });
export type PairClaimResponse = z.infer<typeof PairClaimResponse>;

/** Error bodies of HTTP endpoints: a code a program can branch on, and a sentence a person can act on. */
export const HttpError = z.object({ error: z.string(), message: z.string() });
export type HttpError = z.infer<typeof HttpError>;

export const UploadResponse = z.object({ id: z.string(), name: z.string(), size: z.number(), mediaType: z.string() });

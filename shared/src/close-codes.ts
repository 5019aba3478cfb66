// WebSocket close codes the daemon uses. Kept apart from the zod schemas so the phone app can
// import them on its first-connect path, which loads no zod.
export const CloseCode = {
  goingAway: 1001,
  policyViolation: 1008,
  tooBig: 1009,
  /** This device was revoked while connected. */
  revoked: 4001,
  /** The token is unknown (never issued, or the device was revoked): pair again. */
  unauthorized: 4003,
} as const;

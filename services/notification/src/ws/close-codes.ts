/** WebSocket close codes Warren uses (documented in the README's WebSocket section). */
export const CLOSE = {
  /** Missing, invalid or expired token (and not renewed in time). */
  unauthorized: 4001,
  /** The server is shutting down; reconnect (with ?after=) to another replica. */
  goingAway: 1001,
  /** A frame larger than WS_MAX_PAYLOAD_BYTES (set by the ws library). */
  tooLarge: 1009,
  /** Something went wrong on our side. */
  internalError: 1011,
} as const;

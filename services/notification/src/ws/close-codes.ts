/** WebSocket close codes Warren uses (documented in the README's WebSocket section). */
export const CLOSE = {
  /** The server is shutting down; reconnect (with ?after=), possibly to another replica. */
  goingAway: 1001,
  /** Too many junk frames, or frames sent too fast. */
  policyViolation: 1008,
  /** A frame larger than WS_MAX_PAYLOAD_BYTES (set by the ws library). */
  tooLarge: 1009,
  /** Something went wrong on our side; reconnect with ?after=. */
  internalError: 1011,
  /** The server holds WS_MAX_CONNECTIONS sockets already, the token cannot be checked right now (keys unreachable), or the database is unavailable; try again later. */
  tryAgainLater: 1013,
  /** Missing, invalid or expired token (and not renewed in time), a renewal for another user, or the session ended. */
  unauthorized: 4001,
  /** The client did not read fast enough (its unsent data passed WS_MAX_BUFFERED_BYTES); reconnect with ?after=. */
  slowConsumer: 4008,
  /** The user already has WS_MAX_CONNECTIONS_PER_USER sockets open. */
  tooManyConnections: 4029,
} as const;

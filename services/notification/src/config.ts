/** The notification service's configuration: the common variables plus consumer and socket limits. */
import { z } from 'zod';
import { loadConfig } from '@warren/shared/config';

const int = z.coerce.number().int();

export function loadNotificationConfig(env: Record<string, string | undefined> = process.env) {
  return loadConfig(
    'notification',
    env,
    () =>
      z.object({
        NOTIFICATION_CONSUMER_PREFETCH: int.min(1).max(1000).default(100),
        /** Largest frame a client may send (bytes); bigger ones close the socket with 1009. */
        WS_MAX_PAYLOAD_BYTES: int.min(256).max(1_048_576).default(16_384),
        /** Interval of server pings; a socket that has not answered the previous one is dropped. */
        WS_HEARTBEAT_MS: int.min(1000).max(300_000).default(30_000),
      }),
    (v) => ({
      consumerPrefetch: v.NOTIFICATION_CONSUMER_PREFETCH,
      wsMaxPayloadBytes: v.WS_MAX_PAYLOAD_BYTES,
      wsHeartbeatMs: v.WS_HEARTBEAT_MS,
    }),
  );
}
export type NotificationConfig = ReturnType<typeof loadNotificationConfig>;

/**
 * What bounds the partner user (other teams' publishers) on the broker, besides its permissions
 * (broker-users.ts): a flood of large notification requests would otherwise fill the queues it
 * reaches until the broker's memory or disk alarm blocks every publisher of every service.
 *
 * - A policy on the work queues the partner's events go to (found from the map, so a new partner
 *   event is covered): `max-length-bytes` and `overflow: reject-publish`. A publish past the limit
 *   is refused (a publisher-confirm nack); the queue keeps what it holds and its consumers go on.
 *   The services declare no `x-max-length*` or `x-overflow` on these queues, so the policy is what
 *   applies (a queue argument would win over it); their dead-letter arguments are untouched. One
 *   policy applies to a queue, the highest priority's: POLICY_PRIORITY is above the 0 of an
 *   operator's catch-all policy, and the pattern is the exact queue names, anchored.
 * - User limits for the partner: connections and channels (RabbitMQ's `set_user_limits`, and the
 *   `limits` of a user in a definitions document; measured on 3.10.8).
 *
 * docs/decisions/0032-broker-users.md (amendment "Limits on the partner").
 */
import { anchored } from '../messaging/broker-permissions.js';
import { eventsPublishedBy, PARTNER, type Topology } from './topology.js';
import { brokerUserName } from './broker-users.js';

export const DEFAULT_PARTNER_QUEUE_BYTES = 1024 ** 3;
export const DEFAULT_PARTNER_MAX_CONNECTIONS = 10;
export const DEFAULT_PARTNER_MAX_CHANNELS = 20;
/** Above an operator's own policies at the default 0, so that ours is the one that applies. */
export const POLICY_PRIORITY = 10;

export interface LimitOptions {
  /** `max-length-bytes` of each queue the partner reaches (message bodies). */
  queueBytes: number;
  maxConnections: number;
  /** Across all its connections together. */
  maxChannels: number;
}

export const DEFAULT_LIMITS: LimitOptions = {
  queueBytes: DEFAULT_PARTNER_QUEUE_BYTES,
  maxConnections: DEFAULT_PARTNER_MAX_CONNECTIONS,
  maxChannels: DEFAULT_PARTNER_MAX_CHANNELS,
};

export interface QueuePolicy {
  name: string;
  /** Anchored, exact queue names of the namespace. */
  pattern: string;
  applyTo: 'queues';
  priority: number;
  definition: { 'max-length-bytes': number; overflow: 'reject-publish' };
  /** The queues it covers, for the comment that precedes it. */
  queues: string[];
}

export interface UserLimits {
  user: string;
  limits: { 'max-connections': number; 'max-channels': number };
}

export interface BrokerLimits {
  policies: QueuePolicy[];
  userLimits: UserLimits[];
}

/** The work queues an event the partner may publish is delivered to. */
export function partnerQueues(t: Topology): string[] {
  return [...new Set(eventsPublishedBy(t, PARTNER).flatMap((e) => e.deliversTo.map((q) => q.name)))].sort();
}

export function brokerLimits(t: Topology, opts: LimitOptions = DEFAULT_LIMITS): BrokerLimits {
  for (const [key, value] of Object.entries(opts)) {
    if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${key} must be a positive whole number, not ${value}`);
  }
  const queues = partnerQueues(t);
  return {
    policies:
      queues.length === 0
        ? []
        : [
            {
              name: `${t.namespace}.partner-queues-limit`,
              pattern: anchored(queues.map((exact) => ({ exact }))),
              applyTo: 'queues',
              priority: POLICY_PRIORITY,
              definition: { 'max-length-bytes': opts.queueBytes, overflow: 'reject-publish' },
              queues,
            },
          ],
    userLimits: [{ user: brokerUserName(t.namespace, PARTNER), limits: { 'max-connections': opts.maxConnections, 'max-channels': opts.maxChannels } }],
  };
}

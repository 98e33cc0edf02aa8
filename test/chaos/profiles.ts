/**
 * How long and how hard each row runs: `full` is `npm run chaos` (the fault table's stated
 * durations), `short` the same rows in `npm test`, with shorter outages and a lighter load so
 * the whole table fits in a few minutes of CI.
 */
export interface Profile {
  name: 'short' | 'full';
  /** Sends started per second, each to every recipient. */
  rate: number;
  online: number;
  offline: number;
  /** Load before the fault. */
  warmupMs: number;
  /** Load after every service is ready again. */
  tailMs: number;
  /** How long the broker stays down in the "broker down" row. */
  brokerDownMs: number;
  /** Between a broker kill and its start. */
  brokerKilledMs: number;
  /** How long a database stays down. */
  databaseDownMs: number;
  /** Between a service's kill -9 or exit and its start. */
  serviceDownMs: number;
  /** How long the counting waits for every copy to arrive. */
  settleMs: number;
}

export const FULL: Profile = {
  name: 'full',
  rate: 20,
  online: 4,
  offline: 2,
  warmupMs: 5_000,
  tailMs: 5_000,
  brokerDownMs: 30_000,
  brokerKilledMs: 5_000,
  databaseDownMs: 10_000,
  serviceDownMs: 5_000,
  settleMs: 120_000,
};

export const SHORT: Profile = {
  name: 'short',
  rate: 10,
  online: 2,
  offline: 1,
  warmupMs: 2_000,
  tailMs: 2_000,
  brokerDownMs: 8_000,
  brokerKilledMs: 2_000,
  databaseDownMs: 10_000,
  serviceDownMs: 2_000,
  settleMs: 60_000,
};

/**
 * One reconnecting AMQP connection per service, managed by amqp-connection-manager: it
 * reconnects after any loss and re-runs every channel's setup (topology, consumers).
 * We add exponential backoff with jitter between failed attempts (the library waits a fixed
 * time), capped at 3 s: a broker that is back is found within seconds (a 30 s cap meant up to
 * 30 s more of 503s after an outage), and a few attempts a second at most cost the broker
 * nothing. The jitter spreads many replicas' attempts. Plus a readiness flag for /readyz.
 *
 * Given the nodes of one cluster, it connects to the first that answers and, after a loss, tries
 * the next one in the list (round robin): the lost node is the last it tries again. The work
 * queues are quorum queues replicated on the cluster, so the setups run again on the new node
 * find them there, with their messages (docs/decisions/0022-broker-cluster.md).
 */
import amqp, { type AmqpConnectionManager, type ChannelWrapper } from 'amqp-connection-manager';
import type { ConfirmChannel, Channel } from 'amqplib';
import { maskUrl, type Logger } from '../logger.js';

export interface BrokerOptions {
  /** One broker, or the nodes of one cluster (tried in this order). */
  url: string | readonly string[];
  /** Shown in the broker's connection list (rabbitmqctl list_connections name). */
  connectionName: string;
  logger: Logger;
  heartbeatSeconds?: number;
  /** First pause after a lost connection (default 0.5 s). */
  minBackoffSeconds?: number;
  /** Longest pause between failed attempts, before jitter takes up to half of it off (default 3 s). */
  maxBackoffSeconds?: number;
}

export type SetupFn = (channel: ConfirmChannel | Channel) => Promise<unknown>;

export class Broker {
  readonly manager: AmqpConnectionManager;
  private readonly logger: Logger;
  private readonly minBackoff: number;
  private readonly maxBackoff: number;
  private closing = false;
  /** Failed attempts since the last connection. */
  private failures = 0;
  /** Lost a connection, or failed to make one, and not connected again since. */
  private down = false;
  /** The consumers of this connection, for readiness (see consumersUp). */
  private readonly consumers = new Set<{ readonly name: string; isConsuming(): boolean }>();

  constructor(opts: BrokerOptions) {
    this.logger = opts.logger;
    this.minBackoff = opts.minBackoffSeconds ?? 0.5;
    this.maxBackoff = opts.maxBackoffSeconds ?? 3;
    const urls = typeof opts.url === 'string' ? [opts.url] : [...opts.url];
    this.manager = amqp.connect(urls, {
      heartbeatIntervalInSeconds: opts.heartbeatSeconds ?? 10,
      reconnectTimeInSeconds: this.minBackoff,
      connectionOptions: { clientProperties: { connection_name: opts.connectionName } },
    });
    this.manager.on('connect', ({ url }) => {
      this.failures = 0;
      this.down = false;
      this.manager.reconnectTimeInSeconds = this.minBackoff;
      this.logger.info('broker connected', { broker: typeof url === 'string' ? maskUrl(url) : undefined });
    });
    this.manager.on('disconnect', ({ err }) => {
      this.down = true;
      if (!this.closing) this.logger.warn('broker disconnected', { err: err?.message });
    });
    this.manager.on('connectFailed', ({ err, url }) => {
      // The library reads reconnectTimeInSeconds before each attempt: double it up to the cap,
      // then take a random part of up to half off, so it never exceeds the cap.
      this.failures += 1;
      this.down = true;
      const ceiling = Math.min(this.maxBackoff, this.minBackoff * 2 ** this.failures);
      this.manager.reconnectTimeInSeconds = ceiling * (0.5 + Math.random() * 0.5);
      this.logger.warn('broker connection failed', {
        broker: typeof url === 'string' ? maskUrl(url) : undefined,
        err: err?.message,
        retryInSeconds: Number(this.manager.reconnectTimeInSeconds.toFixed(2)),
      });
    });
    this.manager.on('blocked', ({ reason }) => this.logger.warn('broker blocked the connection', { reason }));
  }

  isConnected(): boolean {
    return this.manager.isConnected();
  }

  /**
   * True while a connection is known to be lost (or could not be made): callers fail fast with
   * 503 rather than queue work in memory. False during the very first connection attempt, so
   * work started at boot simply waits for it.
   */
  isDown(): boolean {
    return this.down && !this.manager.isConnected();
  }

  /**
   * Adds a consumer to those readiness waits for; the returned function takes it out (on stop).
   * A replica whose connection is up but whose consumer is not (a queue it may not re-declare,
   * retried with backoff) would otherwise look ready while it hears nothing.
   */
  trackConsumer(consumer: { readonly name: string; isConsuming(): boolean }): () => void {
    this.consumers.add(consumer);
    return () => this.consumers.delete(consumer);
  }

  /** The names of the tracked consumers not consuming now (empty: all are). */
  idleConsumers(): string[] {
    const idle: string[] = [];
    for (const c of this.consumers) if (!c.isConsuming()) idle.push(c.name);
    return idle;
  }

  /** Resolves once connected; rejects after `timeoutMs` so a start never hangs silently. */
  async waitConnected(timeoutMs: number): Promise<void> {
    await this.manager.connect({ timeout: timeoutMs });
  }

  /**
   * A channel whose `setup` runs on every (re)connection. Errors are logged, never thrown
   * into the void (an unhandled 'error' event would crash the process).
   */
  channel(name: string, opts: { confirm: boolean; setup: SetupFn; publishTimeoutMs?: number }): ChannelWrapper {
    const wrapper = this.manager.createChannel({
      name,
      json: false,
      confirm: opts.confirm,
      publishTimeout: opts.publishTimeoutMs,
      setup: opts.setup,
    });
    wrapper.on('error', (err: Error) => this.logger.error('channel error', { channel: name, err: err.message }));
    return wrapper;
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.manager.close();
  }
}

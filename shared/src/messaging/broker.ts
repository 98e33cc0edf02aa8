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
 *
 * A channel whose setup the broker refuses (its user lacks a permission: ACCESS_REFUSED) would
 * otherwise wait for the next reconnection, which changes nothing: the refusal is logged once per
 * setup with the permission it needed, and whoever waits for the channel gets it as an error, so
 * a service started with the wrong broker user stops at once saying why (docs/decisions/0032).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import amqp, { type AmqpConnectionManager, type ChannelWrapper } from 'amqp-connection-manager';
import type { ConfirmChannel, Channel } from 'amqplib';
import { maskUrl, type Logger } from '../logger.js';
import { BrokerAccessRefused, brokerMessageOf, isAccessRefused } from './refusal.js';

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

/** A channel's last refusal, and those waiting for it to be set up. */
interface ChannelState {
  refused: Error | undefined;
  waiters: Set<(err: Error) => void>;
}

export class Broker {
  readonly manager: AmqpConnectionManager;
  private readonly logger: Logger;
  private readonly minBackoff: number;
  private readonly maxBackoff: number;
  private closing = false;
  /** Failed attempts since the last connection. */
  private failures = 0;
  /** Why the last attempt failed, while not connected (said again if the start gives up). */
  private lastFailure: string | undefined;
  /** Lost a connection, or failed to make one, and not connected again since. */
  private down = false;
  /** The consumers of this connection, for readiness (see consumersUp). */
  private readonly consumers = new Set<{ readonly name: string; isConsuming(): boolean }>();
  /** Every open channel made by `channel()`. */
  private readonly channels = new Map<ChannelWrapper, ChannelState>();

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
      this.lastFailure = undefined;
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
      // amqplib drops the broker's reason when it closes the connection at open; the usual one:
      const hint = /Expected ConnectionOpenOk; got <ConnectionClose/.test(err?.message ?? '')
        ? "the broker refused the connection at open: the user has no permissions on the URL's vhost (rabbitmqctl set_permissions), or the vhost does not exist"
        : undefined;
      this.lastFailure = hint ? `${err?.message}: ${hint}` : err?.message;
      this.logger.warn('broker connection failed', {
        broker: typeof url === 'string' ? maskUrl(url) : undefined,
        err: err?.message,
        ...(hint ? { hint } : {}),
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

  /** Resolves once connected; rejects after `timeoutMs` so a start never hangs silently, saying why the last attempt failed. */
  async waitConnected(timeoutMs: number): Promise<void> {
    try {
      await this.manager.connect({ timeout: timeoutMs });
    } catch (err) {
      throw new Error(this.lastFailure && this.lastFailure !== (err as Error).message ? `${(err as Error).message} (last attempt: ${this.lastFailure})` : (err as Error).message);
    }
  }

  /**
   * A channel whose `setup` runs on every (re)connection. Errors are logged, never thrown
   * into the void (an unhandled 'error' event would crash the process); a refusal says which
   * permission was missing, and fails `waitForChannel`.
   */
  channel(name: string, opts: { confirm: boolean; setup: SetupFn; publishTimeoutMs?: number }): ChannelWrapper {
    const state: ChannelState = { refused: undefined, waiters: new Set() };
    const wrapper = this.manager.createChannel({
      name,
      json: false,
      confirm: opts.confirm,
      publishTimeout: opts.publishTimeoutMs,
      setup: async (ch: ConfirmChannel | Channel) => {
        let settingUp = true;
        // Refused later (a publish on a key the user may not use): the broker closes the channel.
        ch.on('error', (err: Error) => {
          if (!settingUp && isAccessRefused(err)) this.logger.error('the broker refused a publish', { channel: name, err: brokerMessageOf(err) });
        });
        try {
          await opts.setup(ch);
          state.refused = undefined;
        } catch (err) {
          if (isAccessRefused(err)) {
            state.refused = err as Error;
            this.logger.error('the broker refused a permission', {
              channel: name,
              needs: err instanceof BrokerAccessRefused ? err.needs : undefined,
              err: brokerMessageOf(err),
            });
            for (const reject of state.waiters) reject(err as Error);
          }
          throw err;
        } finally {
          settingUp = false;
        }
      },
    });
    wrapper.on('error', (err: Error) => {
      if (!isAccessRefused(err)) this.logger.error('channel error', { channel: name, err: err.message });
    });
    wrapper.on('close', () => this.channels.delete(wrapper));
    this.channels.set(wrapper, state);
    return wrapper;
  }

  /**
   * Resolves once `wrapper` (made by `channel()`) is set up; rejects with the refusal if the
   * broker refused its setup a permission, now or while waiting (instead of waiting for ever).
   */
  async waitForChannel(wrapper: ChannelWrapper): Promise<void> {
    const state = this.channels.get(wrapper);
    if (state?.refused) throw state.refused;
    let reject: ((err: Error) => void) | undefined;
    const refused = new Promise<never>((_, r) => {
      reject = r;
      state?.waiters.add(r);
    });
    try {
      await Promise.race([wrapper.waitForConnect(), refused]);
    } finally {
      if (reject) state?.waiters.delete(reject);
    }
  }

  /**
   * Waits (up to `timeoutMs`) until every open channel is set up; rejects with the first
   * refusal. A service's start ends with it, so a permission its user lacks stops the start.
   */
  async waitForChannels(timeoutMs: number): Promise<void> {
    const all = Promise.all([...this.channels.keys()].map((w) => this.waitForChannel(w)));
    // A refusal after the wait is over is the channel's to log, not an unhandled rejection.
    all.catch(() => undefined);
    await Promise.race([all, sleep(timeoutMs, undefined, { ref: false })]);
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.manager.close();
  }
}

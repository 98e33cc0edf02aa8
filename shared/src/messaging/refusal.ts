/**
 * What the broker's authorization refused, said in its terms. RabbitMQ answers an operation the
 * user may not do with ACCESS_REFUSED (403), naming the resource and the user but not which of
 * the three permissions (configure, write, read) the operation needed, and closes the channel.
 * The kit runs each declaration, binding and consumption through `needing`, so a service started
 * with a broker user that lacks a permission stops with one line saying which
 * (docs/decisions/0032-broker-users.md), instead of waiting for a reconnection that changes nothing.
 */

/** An operation the broker refused: `needs` is the permission, in RabbitMQ's words. */
export class BrokerAccessRefused extends Error {
  /** As the broker's own error: code 403, so code that checks codes treats both alike. */
  readonly code = 403;

  constructor(
    readonly needs: string,
    readonly brokerMessage: string,
  ) {
    super(`the broker refused an operation that needs ${needs}: ${brokerMessage}`);
    this.name = 'BrokerAccessRefused';
  }
}

/** Whether the broker refused access (AMQP 403 ACCESS_REFUSED): a channel or connection error. */
export function isAccessRefused(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 403;
}

/**
 * The broker's own sentence out of amqplib's error text (`Operation failed: QueueDeclare; 403
 * (ACCESS-REFUSED) with message "ACCESS_REFUSED - access to queue 'q' in vhost '/' refused for
 * user 'u'"`): it names the resource and the user, never a password.
 */
export function brokerMessageOf(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return /with message "([^"]*)"/.exec(text)?.[1] ?? text;
}

/** Runs `op`; a refusal of it comes out as a BrokerAccessRefused naming `needs`. */
export async function needing<T>(needs: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    if (isAccessRefused(err) && !(err instanceof BrokerAccessRefused)) throw new BrokerAccessRefused(needs, brokerMessageOf(err));
    throw err;
  }
}

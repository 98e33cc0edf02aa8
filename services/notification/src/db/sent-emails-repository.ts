/** Which email.requested messages have been sent, by AMQP message id (the idempotency record). */
import type { Pool } from '@warren/shared/db/database';
import type { SentEmails } from '../domain/ports.js';

export class SentEmailsRepository implements SentEmails {
  constructor(private readonly pool: Pool) {}

  async wasSent(messageId: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('SELECT 1 FROM sent_emails WHERE message_id = $1', [messageId]);
    return (rowCount ?? 0) > 0;
  }

  async recordSent(messageId: string): Promise<void> {
    await this.pool.query('INSERT INTO sent_emails (message_id) VALUES ($1) ON CONFLICT (message_id) DO NOTHING', [
      messageId,
    ]);
  }
}

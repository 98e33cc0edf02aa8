/**
 * What the benchmark sends: one notification to one user, with a title that names the run,
 * the phase and the index (so a socket can tell each delivery apart) and a body of realistic
 * length. The raw-broker phase publishes a `notification.requested` message of the same size.
 */
import { randomUUID } from 'node:crypto';
import type { SendConnections } from './send-connections.js';

const BODY = 'Your weekly report is ready. Open the dashboard to review the figures for your team and approve the pending items.';

export function title(runId: string, phase: string, index: number): string {
  return `bench ${runId} ${phase} ${index}`;
}

/** Index of a bench title of this run and phase, or undefined for any other notification. */
export function indexOf(runId: string, phase: string, t: string): number | undefined {
  const prefix = `bench ${runId} ${phase} `;
  return t.startsWith(prefix) ? Number(t.slice(prefix.length)) : undefined;
}

export function sendBody(userId: string, t: string, data: Record<string, unknown>) {
  return { recipients: { userIds: [userId] }, title: t, body: BODY, type: 'bench', data };
}

/** POST /notifications as the sender's user; resolves with the HTTP status (202 when the broker confirmed it). */
export function send(sender: SendConnections, userId: string, t: string, data: Record<string, unknown> = {}): Promise<number> {
  return sender.post('/notifications', sendBody(userId, t, data));
}

/** POST /notifications/batch of one notification per title, all to one user; resolves with the HTTP status. */
export function sendBatch(sender: SendConnections, userId: string, titles: string[]): Promise<number> {
  return sender.post('/notifications/batch', { notifications: titles.map((t) => sendBody(userId, t, {})) });
}

/** A `notification.requested` message as main-backend publishes it (for the raw-broker phase). */
export function requestedMessage(userId: string, t: string): Buffer {
  return Buffer.from(
    JSON.stringify({
      ...sendBody(userId, t, { i: 0 }),
      notificationId: randomUUID(),
      requestedBy: { userId },
      requestedAt: new Date().toISOString(),
    }),
  );
}

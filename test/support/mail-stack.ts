/**
 * The fixture of the auth attack tests: a whole stack sending its emails to a real SMTP server
 * in the test process (to read codes and alerts), and a client on the auth database (to look at
 * what was stored). `stop()` closes all three.
 */
import pg from 'pg';
import { startSmtpServer, type TestSmtpServer } from './smtp.js';
import { startStack, type Stack } from './stack.js';

export interface MailStack {
  stack: Stack;
  smtp: TestSmtpServer;
  authDb: pg.Client;
  stop(): Promise<void>;
}

export async function startMailStack(overrides: Record<string, string> = {}): Promise<MailStack> {
  const smtp = await startSmtpServer();
  const stack = await startStack({ SMTP_URL: smtp.url, ...overrides });
  const authDb = new pg.Client({ connectionString: stack.env.AUTH_DATABASE_URL });
  await authDb.connect();
  return {
    stack,
    smtp,
    authDb,
    async stop() {
      await authDb.end();
      await stack.stop();
      await smtp.stop();
    },
  };
}

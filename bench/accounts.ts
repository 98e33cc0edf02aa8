/**
 * The accounts the benchmark acts as. The admin (bootstrap account) sends and receives the
 * measured notifications. Idle sockets are spread over several users, because one user may
 * hold at most WS_MAX_CONNECTIONS_PER_USER sockets (at most 1000): on a stack the benchmark
 * started itself, those users register through the real flow, reading their codes from a
 * small SMTP server inside the benchmark process.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import type { HttpClient } from './http-client.js';
import { runBounded, waitUntil } from './stats.js';

export interface Session {
  userId: string;
  accessToken: string;
}

export async function login(http: HttpClient, mainUrl: string, email: string, password: string): Promise<Session> {
  const res = await http.post<{ accessToken: string; user: { id: string } }>(`${mainUrl}/login`, { email, password });
  if (res.status !== 200) throw new Error(`login of ${email} failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { userId: res.body.user.id, accessToken: res.body.accessToken };
}

/** Keeps the one-time code of the last email each address received. */
export interface CodeInbox {
  url: string;
  codeFor(address: string, timeoutMs: number): Promise<string>;
  stop(): Promise<void>;
}

export async function startCodeInbox(): Promise<CodeInbox> {
  const codes = new Map<string, string>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    closeTimeout: 100,
    onData(stream, session, callback) {
      simpleParser(stream).then((mail) => {
        const code = /\b(\d{6})\b/.exec(mail.text ?? '')?.[1];
        if (code) for (const rcpt of session.envelope.rcptTo) codes.set(rcpt.address.toLowerCase(), code);
        callback();
      }, callback);
    },
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    async codeFor(address, timeoutMs) {
      const key = address.toLowerCase();
      if (!(await waitUntil(() => codes.has(key), timeoutMs, 50))) throw new Error(`no code emailed to ${address}`);
      return codes.get(key) as string;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Registers `count` users, verifies them with their emailed codes, and logs them in. */
export async function registerUsers(http: HttpClient, mainUrl: string, inbox: CodeInbox, count: number): Promise<Session[]> {
  const sessions: Session[] = [];
  const tag = randomBytes(3).toString('hex');
  // Argon2 hashing dominates here; four at a time keeps both cores busy without queueing.
  await runBounded(count, 4, async (i) => {
    const email = `bench-${tag}-${i}@warren.test`;
    const password = `bench socket user ${randomBytes(6).toString('hex')}`;
    const reg = await http.post(`${mainUrl}/auth/register`, { email, password, name: `Bench ${i}` });
    if (reg.status !== 202) throw new Error(`registration failed: ${reg.status} ${JSON.stringify(reg.body)}`);
    const code = await inbox.codeFor(email, 20_000);
    const verified = await http.post(`${mainUrl}/auth/verify-email`, { email, code });
    if (verified.status !== 200) throw new Error(`verification failed: ${verified.status} ${JSON.stringify(verified.body)}`);
    sessions.push(await login(http, mainUrl, email, password));
  });
  return sessions;
}

/**
 * OpenTelemetry against a real stack: main-backend and notification run as processes with
 * OTEL_EXPORTER_OTLP_ENDPOINT pointing at an OTLP/HTTP receiver in this test; one send must give
 * an HTTP server span, an amqplib publish and consume, and pg spans, all under one trace id.
 * (Auth runs in this process, untraced: it only answers the JWKS and login RPCs.)
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadAuthConfig } from '../../services/auth/src/config.js';
import { createAuthService } from '../../services/auth/src/service.js';
import { deleteNamespace, dropDatabase, isolatedEnv } from '../support/env.js';
import { captureLogs } from '../support/logs.js';
import { ADMIN } from '../support/stack.js';
import { until } from '../support/wait.js';

const root = join(fileURLToPath(import.meta.url), '..', '..', '..');

interface Span {
  traceId: string;
  name: string;
  kind: number;
  service: string;
}

function startReceiver(spans: Span[]): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        resourceSpans: { resource: { attributes: { key: string; value: { stringValue?: string } }[] }; scopeSpans: { spans: Omit<Span, 'service'>[] }[] }[];
      };
      for (const rs of body.resourceSpans ?? []) {
        const service = rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
        for (const ss of rs.scopeSpans) for (const s of ss.spans) spans.push({ traceId: s.traceId, name: s.name, kind: s.kind, service });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function startProcess(service: string, env: Record<string, string>): { child: ChildProcess; lines: Record<string, unknown>[] } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: join(root, 'services', service),
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  let rest = '';
  child.stdout?.on('data', (d: Buffer) => {
    const parts = (rest + d.toString()).split('\n');
    rest = parts.pop() ?? '';
    for (const p of parts) if (p.startsWith('{')) lines.push(JSON.parse(p) as Record<string, unknown>);
  });
  child.stderr?.on('data', (d: Buffer) => process.stderr.write(d));
  return { child, lines };
}

describe('OpenTelemetry traces', () => {
  const spans: Span[] = [];
  let receiver: Server;
  const env: Record<string, string> = {
    ...isolatedEnv(),
    LOG_LEVEL: 'info',
    BOOTSTRAP_ADMIN_EMAIL: ADMIN.email,
    BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
    AUTH_KEY_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
  };
  const auth = createAuthService(loadAuthConfig(env), { logger: captureLogs('auth', 'warn').logger });
  const processes: { child: ChildProcess; lines: Record<string, unknown>[] }[] = [];

  before(async () => {
    receiver = await startReceiver(spans);
    const address = receiver.address();
    const otel = {
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`,
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_METRICS_EXPORTER: 'none',
      OTEL_LOGS_EXPORTER: 'none',
    };
    await auth.start();
    for (const service of ['main-backend', 'notification']) processes.push(startProcess(service, { ...env, ...otel }));
    await until(() => processes.every((p) => p.lines.some((l) => / started$/.test(String(l.message)))), 'both services started', 60_000);
  });

  after(async () => {
    await Promise.all(processes.map(async ({ child: p }) => {
      if (p.exitCode === null) {
        p.kill('SIGTERM');
        await once(p, 'exit');
      }
    }));
    await auth.stop();
    receiver?.close();
    await Promise.allSettled([dropDatabase(env.AUTH_DATABASE_URL as string), dropDatabase(env.MAIN_DATABASE_URL as string), dropDatabase(env.NOTIFICATION_DATABASE_URL as string), deleteNamespace(env.BROKER_NAMESPACE as string)]);
  });

  it('When one notification is sent, then its HTTP, amqplib publish and consume, and pg spans share one trace id', async () => {
    const portOf = (i: number) => processes[i]?.lines.find((l) => / started$/.test(String(l.message)))?.port as number;
    const mainUrl = `http://127.0.0.1:${portOf(0)}`;
    const login = await fetch(`${mainUrl}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: ADMIN.email, password: ADMIN.password }) });
    assert.equal(login.status, 200);
    const session = (await login.json()) as { accessToken: string; user: { id: string } };
    const traceId = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
    const res = await fetch(`${mainUrl}/notifications`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${session.accessToken}`, traceparent: `00-${traceId}-1122334455667788-01` },
      body: JSON.stringify({ recipients: { userIds: [session.user.id] }, title: 'traced', body: 'b' }),
    });
    assert.equal(res.status, 202);
    const inTrace = () => spans.filter((s) => s.traceId === traceId);
    const has = (service: string, what: (s: Span) => boolean) => inTrace().some((s) => s.service === service && what(s));
    // Kinds: 2 server, 3 producer, 4 consumer, 1 internal/3 client for pg (the instrumentation's choice).
    await until(
      () =>
        has('warren-main-backend', (s) => s.kind === 2) &&
        has('warren-main-backend', (s) => s.kind === 4 || s.kind === 3) &&
        has('warren-notification', (s) => s.kind === 5) &&
        has('warren-notification', (s) => /^pg\./.test(s.name)),
      `spans of one trace (got ${JSON.stringify(inTrace())})`,
      20_000,
    ).catch(() => assert.fail(`spans of trace ${traceId}: ${JSON.stringify(inTrace().map((s) => [s.service, s.kind, s.name]))}; all: ${spans.length}`));
  });
});

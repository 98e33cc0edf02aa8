// Isolates main-backend's per-request cost by endpoint: spawn the stack, then load one endpoint.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { spawnStack } from '../bench/stack-processes.js';
import { startCodeInbox } from '../bench/accounts.js';
import { login } from '../bench/accounts.js';
import { HttpClient } from '../bench/http-client.js';
import net from 'node:net';
const admin = { email: 'edge-admin@warren.test', password: `edge admin ${randomBytes(8).toString('hex')}` };
const inbox = await startCodeInbox();
const stack = await spawnStack({ root: process.cwd(), rabbitmqUrl: 'amqp://guest:guest@127.0.0.1:5672', postgresUrl: 'postgres://postgres@127.0.0.1:5432', admin, smtpUrl: inbox.url, overrides: JSON.parse(process.env.OVR ?? '{}'), logFile: '/tmp/edge-stack.log', cpuProfile: process.env.PROF ? ['main-backend'] : [], profileDir: '/tmp/edgeprof' });
const http = new HttpClient(4);
const s = await login(http, stack.mainUrl, admin.email, admin.password);
const pid = stack.pids['main-backend'] as number;
const cpu = () => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8'); const x = f.slice(f.lastIndexOf(')') + 2).split(' '); return (Number(x[11]) + Number(x[12])) * 10; };
const url = new URL(stack.mainUrl);
async function load(name: string, reqFor: (i: number) => string, N = 20000, C = 128) {
  let sent = 0, done = 0, bad = 0;
  const conn = () => new Promise<void>((resolve) => { const sock = net.connect(Number(url.port), url.hostname); let buf = '';
    const go = () => { if (sent >= N) { sock.end(); resolve(); return; } sock.write(reqFor(sent++)); };
    sock.setEncoding('latin1'); sock.on('connect', go); sock.on('data', (d: string) => { buf += d; for (;;) { const h = buf.indexOf('\r\n\r\n'); if (h < 0) return; const m = /content-length: *(\d+)/i.exec(buf.slice(0, h)); const len = Number(m?.[1] ?? 0); if (buf.length < h + 4 + len) return; if (!/^HTTP\/1.1 2/.test(buf)) bad++; buf = buf.slice(h + 4 + len); done++; go(); } }); });
  await Promise.all(Array.from({ length: 16 }, () => load0()));
  async function load0() {}
  const c0 = cpu(); const t0 = performance.now();
  await Promise.all(Array.from({ length: C }, conn));
  const t = performance.now() - t0; const c1 = cpu();
  console.log(name.padEnd(28), Math.round(done / t * 1000), 'req/s', 'main-backend cpu ms/req', ((c1 - c0) / done).toFixed(3), bad ? `bad ${bad}` : '');
}
const host = url.host;
const body = (i: number) => JSON.stringify({ recipients: { userIds: [s.userId] }, title: 'edge ' + i, body: 'Your weekly report is ready. Open the dashboard to review the figures for your team and approve the pending items.', type: 'bench', data: {} });
const post = (path: string, b: string, auth = true) => `POST ${path} HTTP/1.1\r\nHost: ${host}\r\n${auth ? `Authorization: Bearer ${s.accessToken}\r\n` : ''}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(b)}\r\n\r\n${b}`;
for (let r = 0; r < 4; r++) {
  //await load('GET /healthz', () => `GET /healthz HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
  //await load('GET /auth/me-ish 404', () => `GET /nope HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
  //await load('POST /notifications no auth', (i) => post('/notifications', body(i), false));
  await load('POST /notifications', (i) => post('/notifications', body(i)));
}
await stack.stop(); await inbox.stop(); http.close();

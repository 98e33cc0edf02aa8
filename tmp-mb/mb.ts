import { randomUUID } from 'node:crypto';
import { sendNotificationBodySchema } from '../services/main-backend/src/domain/send-notification.js';
import { notificationRequestedSchema } from '@warren/shared/contracts/notifications';
import { runWithRequestId } from '@warren/shared/request-context';
import { baseProperties, encode } from '@warren/shared/messaging/envelope';
const body = { recipients: { userIds: [randomUUID()] }, title: 'bench x 1', body: 'Your weekly report is ready. Open the dashboard to review the figures for your team and approve the pending items.', type: 'bench', data: {} };
function time(name: string, n: number, fn: () => unknown) {
  for (let i = 0; i < 2000; i++) fn();
  const c0 = process.cpuUsage(); for (let i = 0; i < n; i++) fn(); const c = process.cpuUsage(c0);
  console.log(name.padEnd(30), (((c.user + c.system) / n)).toFixed(2), 'µs');
}
time('zod body', 50000, () => sendNotificationBodySchema.parse(body));
const msg = { ...body, notificationId: randomUUID(), requestedBy: { userId: randomUUID() }, requestedAt: new Date().toISOString() };
time('zod message', 50000, () => notificationRequestedSchema.parse(msg));
time('encode', 50000, () => encode(msg));
time('baseProperties', 50000, () => baseProperties('x', { persistent: true, mandatory: true, type: 'a' }));
time('randomUUID', 50000, () => randomUUID());
time('toISOString', 50000, () => new Date().toISOString());
time('JSON.parse body', 50000, () => JSON.parse(JSON.stringify(body)));
time('ALS run', 50000, () => runWithRequestId('abc', () => 1));
let p: Promise<number> | undefined;
time('promise (ALS on)', 50000, () => { p = Promise.resolve(1).then((x) => x + 1); });

import { baseProperties } from '@warren/shared/messaging/envelope';
import { AsyncLocalStorage } from 'node:async_hooks';
function time(name: string, n: number, fn: () => unknown) {
  for (let i = 0; i < 20000; i++) fn();
  const c0 = process.hrtime.bigint(); for (let i = 0; i < n; i++) fn(); const c = Number(process.hrtime.bigint() - c0);
  console.log(name.padEnd(30), (c / n / 1000).toFixed(3), 'µs');
}
const bp2 = (messageId: string, extra: any = {}) => ({ ...extra, messageId, contentType: 'application/json', timestamp: Math.floor(Date.now() / 1000), headers: { ...(extra.headers ?? {}) } });
time('baseProperties', 200000, () => baseProperties('x', { persistent: true, mandatory: true, type: 'a' }));
time('inline copy', 200000, () => bp2('x', { persistent: true, mandatory: true, type: 'a' }));
time('Date.now', 200000, () => Date.now());
const als = new AsyncLocalStorage();
time('getStore', 200000, () => als.getStore());

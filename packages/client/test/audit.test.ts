/**
 * `auditEvents` against a scripted server: the query it sends (one event or several, joined with
 * commas; nothing for what is not given) and the page it answers. The real stack:
 * test/e2e/audit-events.test.ts and the portal's Sign-in activity view.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WarrenProblem } from '../src/index.js';
import { fakeServer } from './fakes.js';

const page = { items: [], nextCursor: '17' };

describe('the client: auditEvents', () => {
  it('When asked with filters, then GET /audit-events carries them, several events comma-separated, with the token', async () => {
    const { client, script, callsTo } = fakeServer();
    await client.login({ email: 'a@warren.test', password: 'pw' });
    script('/audit-events', { status: 200, body: page }, { status: 200, body: page }, { status: 200, body: page });

    assert.deepEqual(await client.auditEvents(), page);
    await client.auditEvents({ userId: '6f1f8c1e-2a4b-4c3d-9e8f-0a1b2c3d4e5f', event: ['login_failed', 'account_locked'], limit: 25, before: '17' });
    await client.auditEvents({ event: [], userId: '' });

    const [plain, filtered, none] = callsTo('/audit-events');
    assert.equal(plain?.query, '');
    assert.equal(plain?.headers.authorization, 'Bearer access-1');
    assert.deepEqual(Object.fromEntries(new URLSearchParams(filtered?.query)), {
      userId: '6f1f8c1e-2a4b-4c3d-9e8f-0a1b2c3d4e5f',
      event: 'login_failed,account_locked',
      limit: '25',
      before: '17',
    });
    assert.equal(none?.query, '');
  });

  it('When the server refuses, then a WarrenProblem with its code', async () => {
    const { client, script } = fakeServer();
    await client.login({ email: 'a@warren.test', password: 'pw' });
    script('/audit-events', { status: 403, body: { status: 403, code: 'missing_permission', title: 'Forbidden', detail: 'This needs the permission audit:read.' } });
    await assert.rejects(client.auditEvents({ event: 'logout' }), (e: unknown) => e instanceof WarrenProblem && e.status === 403 && e.code === 'missing_permission');
  });
});

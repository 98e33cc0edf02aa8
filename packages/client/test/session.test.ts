/**
 * The session against a scripted server: what is stored, when and how often it refreshes,
 * what ends it, and what errors look like. The real-stack versions are in
 * test/e2e/client-session.test.ts.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { WarrenProblem, type SessionState } from '../src/index.js';
import { fakeServer } from './fakes.js';

const credentials = { email: 'a@warren.test', password: 'pw' };

describe('the client session', () => {
  it('When logging in, then only the refresh token is stored, under the given key, and the session is signedIn', async () => {
    const { client, store } = fakeServer();
    const seen: SessionState[] = [];
    client.onSession((s) => seen.push(s));

    const me = await client.login(credentials);

    assert.equal(me.user.email, 'a@warren.test');
    assert.deepEqual([...store.entries()], [['warren:dev:admin:refreshToken', 'refresh-1']]);
    assert.equal(client.session.state, 'signedIn');
    assert.deepEqual(seen.map((s) => s.state), ['signedIn']);
  });

  it('When several requests are answered 401 at once, then one refresh is made and each is retried once with the new token', async () => {
    const { client, callsTo, script } = fakeServer();
    await client.login(credentials);
    // The server stops accepting access-1 (say, a key rotation): every first try is a 401.
    for (let i = 0; i < 5; i++) script('/inbox/unread-count', { status: 401, body: { status: 401, code: 'invalid_token' } });

    const counts = await Promise.all(Array.from({ length: 5 }, () => client.inbox.unreadCount()));

    assert.deepEqual(counts, [0, 0, 0, 0, 0]);
    assert.equal(callsTo('/auth/refresh').length, 1, 'one refresh for five 401s');
    const retries = callsTo('/inbox/unread-count').slice(5);
    assert.equal(retries.length, 5);
    assert.ok(retries.every((c) => c.headers.authorization === 'Bearer access-2'));
  });

  it('When a 401 arrives for a token that was already replaced, then the request is retried with the new token without refreshing again', async () => {
    const { client, callsTo, script } = fakeServer();
    await client.login(credentials);
    // The first request's 401 comes back only after another caller refreshed.
    script('/inbox/unread-count', { status: 401, body: { status: 401, code: 'token_expired' } });
    const slow = client.inbox.unreadCount();
    await client.refresh();
    assert.equal(await slow, 0);
    assert.equal(callsTo('/auth/refresh').length, 1);
  });

  it('When the retried request is refused again, then its 401 reaches the caller (no refresh loop)', async () => {
    const { client, callsTo, script } = fakeServer();
    await client.login(credentials);
    script('/auth/me', { status: 401, body: { status: 401, code: 'invalid_token' } }, { status: 401, body: { status: 401, code: 'invalid_token' } });
    await assert.rejects(client.me(), { name: 'WarrenProblem', status: 401, code: 'invalid_token' });
    assert.equal(callsTo('/auth/refresh').length, 1);
  });

  it('When the token is due (75 % of its life), then a request refreshes it first instead of waiting for a 401', async () => {
    const { client, calls } = fakeServer({ expiresIn: 1 });
    await client.login(credentials);
    await new Promise((r) => setTimeout(r, 800));
    await client.inbox.unreadCount();
    assert.deepEqual(calls.map((c) => c.path), ['/login', '/auth/refresh', '/inbox/unread-count']);
  });

  it('When the refresh is refused as a reuse, then the session is ended with that code and the stored token forgotten', async () => {
    const { client, store, script } = fakeServer();
    const seen: SessionState[] = [];
    client.onSession((s) => seen.push(s));
    await client.login(credentials);
    script('/auth/refresh', { status: 401, body: { status: 401, code: 'refresh_token_reused', title: 'Unauthorized', detail: 'Session ended.' } });

    await assert.rejects(client.refresh(), { status: 401, code: 'refresh_token_reused', detail: 'Session ended.' });

    assert.deepEqual(client.session, { state: 'ended', code: 'refresh_token_reused' });
    assert.equal(store.size, 0);
    assert.deepEqual(seen.map((s) => s.state), ['signedIn', 'ended']);
    await assert.rejects(client.inbox.unreadCount(), { code: 'not_signed_in' });
  });

  it('When the refresh fails for want of a network or with a 503, then the session and the stored token are kept', async () => {
    const { client, store, script } = fakeServer();
    await client.login(credentials);
    script('/auth/refresh', 'network', { status: 503, body: { status: 503, code: 'broker_unavailable', title: 'Service Unavailable' }, headers: { 'retry-after': '2' } });

    await assert.rejects(client.refresh(), { status: 0, code: 'network_error' });
    await assert.rejects(client.refresh(), { status: 503, code: 'broker_unavailable', retryAfter: 2 });

    assert.equal(client.session.state, 'signedIn');
    assert.equal(store.get('warren:dev:admin:refreshToken'), 'refresh-1');
    await client.refresh();
    assert.equal(store.get('warren:dev:admin:refreshToken'), 'refresh-2');
  });

  it('When a page reloads with a stored refresh token, then restore() resumes the session; with none or a refused one it answers false', async () => {
    const first = fakeServer();
    await first.client.login(credentials);
    assert.equal(await first.client.restore(), true, 'already signed in');

    const empty = fakeServer();
    assert.equal(await empty.client.restore(), false);
    assert.equal(empty.calls.length, 0, 'nothing to ask the server');

    const stale = fakeServer();
    stale.store.set('warren:dev:admin:refreshToken', 'refresh-from-an-older-session');
    assert.equal(await stale.client.restore(), false);
    assert.equal(stale.client.session.state, 'signedOut');
    assert.equal(stale.store.size, 0);
  });

  it('When logging out, then /auth/logout is called with the token and everything is forgotten, even if that call fails', async () => {
    const { client, callsTo, store, script } = fakeServer();
    await client.login(credentials);
    await client.logout();
    assert.equal(callsTo('/auth/logout')[0]?.headers.authorization, 'Bearer access-1');
    assert.equal(store.size, 0);
    assert.equal(client.session.state, 'signedOut');

    await client.login(credentials);
    script('/auth/logout', 'network');
    await client.logout();
    assert.equal(client.session.state, 'signedOut');
    assert.equal(store.size, 0);
  });

  it('When logged out while a refresh is on its way, then its answer is not taken (no session comes back)', async () => {
    const { client, store } = fakeServer();
    await client.login(credentials);
    const refreshing = client.refresh().catch((e: unknown) => e);
    await client.logout();
    assert.equal(((await refreshing) as WarrenProblem).code, 'not_signed_in');
    assert.equal(client.session.state, 'signedOut');
    assert.equal(store.size, 0);
  });

  it('When an answer is an error without problem details, or not JSON, then it still becomes a WarrenProblem with the status', async () => {
    const { client, script } = fakeServer();
    await client.login(credentials);
    script('/inbox', { status: 502, body: '<html>Bad Gateway</html>' }, { status: 200, body: 'not json' });
    await assert.rejects(client.inbox.list(), (err: unknown) => {
      assert.ok(err instanceof WarrenProblem);
      assert.equal(err.status, 502);
      assert.equal(err.code, 'http_502');
      return true;
    });
    await assert.rejects(client.inbox.list(), { status: 200, code: 'invalid_response' });
  });

  it('When a send fails, then the problem names the Idempotency-Key it was sent with, to retry it safely', async () => {
    const { client, callsTo, script } = fakeServer();
    await client.login(credentials);
    script('/notifications', { status: 503, body: { status: 503, code: 'broker_unavailable', title: 'Service Unavailable' } });
    const body = { recipients: { roles: ['employee' as const] }, title: 'hi', body: '' };
    const err = await client.notifications.send(body).catch((e: unknown) => e);
    assert.ok(err instanceof WarrenProblem);
    const key = callsTo('/notifications')[0]?.headers['idempotency-key'];
    assert.ok(key && key.length >= 32);
    assert.equal(err.idempotencyKey, key);
    await client.notifications.send(body, { idempotencyKey: key });
    assert.equal(callsTo('/notifications')[1]?.headers['idempotency-key'], key);
  });

  it('When errors are turned into text or JSON, then no token or password is in them', async () => {
    const { client, script } = fakeServer();
    script('/login', { status: 401, body: { status: 401, code: 'invalid_credentials', title: 'Unauthorized', detail: 'The email or password is incorrect.' } });
    const refused = await client.login({ email: 'a@warren.test', password: 'hunter2-secret' }).catch((e: unknown) => e);
    await client.login(credentials);
    script('/inbox', 'network');
    const offline = await client.inbox.list().catch((e: unknown) => e);
    for (const err of [refused, offline]) {
      assert.ok(err instanceof WarrenProblem);
      for (const text of [String(err), JSON.stringify(err), err.stack ?? '']) assert.doesNotMatch(text, /access-\d|refresh-\d|hunter2/);
    }
  });

  it('Then the client never writes to the console (nothing it handles can end up in a log)', () => {
    const src = new URL('../src/', import.meta.url);
    for (const file of readdirSync(src)) {
      assert.doesNotMatch(readFileSync(new URL(file, src), 'utf8'), /\bconsole\./, file);
    }
  });
});

/**
 * Sessions and refresh tokens: rotation on every use, reuse of a rotated token ends the whole
 * session, concurrent refreshes cannot both win, logout / logout-all / deleting a session end
 * what they should, and an ended session's access token stops working at main-backend.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { call, type JsonResponse } from '../support/http.js';
import { login, startStack, type Stack } from '../support/stack.js';
import { until } from '../support/wait.js';

describe('sessions and refresh tokens', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ SESSION_CHECK_CACHE_SECONDS: '1' });
  });
  after(async () => {
    await stack?.stop();
  });
  const refresh = (refreshToken: string) => call(`${stack.mainUrl}/auth/refresh`, { body: { refreshToken } });

  it('When a refresh token is used, then a new pair comes back with a new refresh token and the same session', async () => {
    const first = await login(stack);
    const res = await refresh(first.refreshToken);
    assert.equal(res.status, 200);
    assert.notEqual(res.body.refreshToken, first.refreshToken);
    assert.notEqual(res.body.accessToken, first.accessToken);
    assert.equal(res.body.session.id, first.session.id);
    assert.equal(res.body.session.expiresAt, first.session.expiresAt, 'absolute expiry does not move');
    assert.equal(res.body.tokenType, 'Bearer');
    assert.deepEqual(res.body.user, first.user);
  });

  it('When a rotated refresh token is presented again, then 401 and the newer token dies too', async () => {
    const first = await login(stack);
    const second = await refresh(first.refreshToken);
    assert.equal(second.status, 200);

    const replay = await refresh(first.refreshToken);
    assert.equal(replay.status, 401);
    assert.equal(replay.body.code, 'refresh_token_reused');

    const afterReplay = await refresh(second.body.refreshToken);
    assert.equal(afterReplay.status, 401, 'the whole session was revoked');
    // Within the session-check cache (1 s here): polled, not slept, so a busy machine is no failure.
    await until(async () => (await call(`${stack.mainUrl}/auth/me`, { token: second.body.accessToken })).status === 401, 'the access token to stop working');
  });

  it('When the same refresh token is sent three times at once, then exactly one wins, the others count as reuse, and the session ends (the winner\'s new token too)', async () => {
    // Arrange
    const first = await login(stack);

    // Act
    const results = await Promise.all([refresh(first.refreshToken), refresh(first.refreshToken), refresh(first.refreshToken)]);

    // Assert: one rotation won (the UPDATE matches once) ...
    const ok = results.filter((r) => r.status === 200);
    const reused = results.filter((r) => r.status === 401 && r.body.code === 'refresh_token_reused');
    assert.equal(ok.length, 1, `statuses: ${results.map((r) => `${r.status} ${r.body.code ?? ''}`).join(', ')}`);
    assert.equal(reused.length, 2, 'the losers presented an already-rotated token: reuse');
    // ... and reuse revoked the whole session, so the winner's fresh pair is dead as well.
    const winner = ok[0]?.body;
    assert.equal((await refresh(winner.refreshToken)).status, 401, "the winner's new refresh token died with the session");
    const sessions = await call(`${stack.mainUrl}/auth/sessions`, { token: (await login(stack)).accessToken });
    assert.ok(!sessions.body.some((s: { id: string }) => s.id === first.session.id), 'the session is no longer listed');
    await until(
      async () => (await call(`${stack.mainUrl}/auth/me`, { token: winner.accessToken })).status === 401,
      "the winner's access token to stop working",
    );
  });

  it('When an unknown or malformed refresh token is sent, then 401 with one code', async () => {
    for (const token of ['x', 'a'.repeat(43), 'a'.repeat(400)]) {
      const res = await refresh(token);
      assert.equal(res.status, 401);
      assert.equal(res.body.code, 'invalid_refresh_token');
    }
  });

  it('When the user logs out, then 204, the refresh token fails and the access token stops working', async () => {
    const s = await login(stack);
    assert.equal((await call(`${stack.mainUrl}/auth/logout`, { method: 'POST', token: s.accessToken })).status, 204);
    assert.equal((await refresh(s.refreshToken)).status, 401);
    assert.equal((await call(`${stack.mainUrl}/auth/me`, { token: s.accessToken })).status, 401);
    // The send path checks the session through a cache (1 s here): polled until it expires.
    let send: JsonResponse | undefined;
    await until(async () => {
      send = await call(`${stack.mainUrl}/notifications`, {
        token: s.accessToken,
        body: { recipients: { userIds: [s.user.id] }, title: 't', body: 'b' },
      });
      return send.status !== 202;
    }, 'the send path to see the session ended');
    assert.equal(send?.status, 401);
    assert.equal(send?.body.code, 'session_ended');
  });

  it('When the user lists sessions, then the live ones show with the current one marked; deleting one ends it', async () => {
    const a = await login(stack);
    const b = await login(stack);
    const list = await call(`${stack.mainUrl}/auth/sessions`, { token: a.accessToken, headers: { 'user-agent': 'test-agent/1' } });
    assert.equal(list.status, 200);
    assert.ok(Array.isArray(list.body));
    const mine = list.body.find((s: { id: string }) => s.id === a.session.id);
    const other = list.body.find((s: { id: string }) => s.id === b.session.id);
    assert.ok(mine && other);
    assert.equal(mine.current, true);
    assert.equal(other.current, false);
    for (const k of ['id', 'createdAt', 'lastUsedAt', 'userAgent', 'ip', 'current']) assert.ok(k in mine, `field ${k}`);

    assert.equal((await call(`${stack.mainUrl}/auth/sessions/${b.session.id}`, { method: 'DELETE', token: a.accessToken })).status, 204);
    assert.equal((await refresh(b.refreshToken)).status, 401);
    const again = await call(`${stack.mainUrl}/auth/sessions`, { token: a.accessToken });
    assert.ok(!again.body.some((s: { id: string }) => s.id === b.session.id));
    assert.equal((await call(`${stack.mainUrl}/auth/sessions/${b.session.id}`, { method: 'DELETE', token: a.accessToken })).status, 404);
    assert.equal((await call(`${stack.mainUrl}/auth/sessions/not-a-uuid`, { method: 'DELETE', token: a.accessToken })).status, 404);
  });

  it('When the user logs out everywhere, then every session ends', async () => {
    const a = await login(stack);
    const b = await login(stack);
    assert.equal((await call(`${stack.mainUrl}/auth/logout-all`, { method: 'POST', token: a.accessToken })).status, 204);
    assert.equal((await refresh(a.refreshToken)).status, 401);
    assert.equal((await refresh(b.refreshToken)).status, 401);
    assert.equal((await call(`${stack.mainUrl}/auth/me`, { token: b.accessToken })).status, 401);
  });

  it('When /auth/me is asked, then the user and permissions answer', async () => {
    const s = await login(stack);
    const res = await call(`${stack.mainUrl}/auth/me`, { token: s.accessToken });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.user, s.user);
    assert.deepEqual(res.body.permissions, s.permissions);
  });
});

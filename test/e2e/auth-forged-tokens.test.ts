/**
 * Forged and misused tokens are refused at main-backend (401) and at the notification socket
 * (close 4001): alg none, HS256 signed with the public key, a tampered payload, an expired
 * token, a wrong audience or issuer, the wrong token type, and a refresh token as a bearer.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { activeSigningKey, decodePayload, signWith, unsignedToken, type RealKey } from '../support/forge.js';
import { login, startStack, type Stack } from '../support/stack.js';
import { openSocket } from '../support/ws-client.js';

describe('forged tokens', () => {
  let stack: Stack;
  let key: RealKey;
  let session: Awaited<ReturnType<typeof login>>;
  let claims: Record<string, unknown>;

  before(async () => {
    stack = await startStack();
    session = await login(stack);
    key = await activeSigningKey(stack);
    claims = decodePayload(session.accessToken);
  });
  after(async () => {
    await stack?.stop();
  });

  async function refusedEverywhere(token: string, why: string) {
    const res = await fetch(`${stack.mainUrl}/auth/me`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 401, `${why}: main-backend answered ${res.status}`);
    assert.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    const socket = openSocket(`${stack.notificationWsUrl}?token=${encodeURIComponent(token)}`);
    assert.equal((await socket.closed).code, 4001, `${why}: the socket was not closed with 4001`);
  }

  it('When the genuine token is used, then it is accepted (the baseline the forgeries differ from)', async () => {
    const res = await fetch(`${stack.mainUrl}/auth/me`, { headers: { authorization: `Bearer ${session.accessToken}` } });
    assert.equal(res.status, 200);
    const genuine = signWith(key, { ...claims, iat: Math.floor(Date.now() / 1000) });
    assert.equal((await fetch(`${stack.mainUrl}/auth/me`, { headers: { authorization: `Bearer ${genuine}` } })).status, 200);
  });

  it('When a token says alg none, then it is refused', async () => {
    await refusedEverywhere(unsignedToken({ alg: 'none', typ: 'at+jwt', kid: key.kid }, claims), 'alg none');
  });

  it('When a token is HS256-signed with the public key as secret, then it is refused', async () => {
    const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const head = enc({ alg: 'HS256', typ: 'at+jwt', kid: key.kid });
    const body = enc(claims);
    const sig = createHmac('sha256', key.publicPem).update(`${head}.${body}`).digest('base64url');
    await refusedEverywhere(`${head}.${body}.${sig}`, 'HS256 with public key');
  });

  it('When the payload is tampered with, then it is refused', async () => {
    const [head, , sig] = session.accessToken.split('.');
    const tampered = Buffer.from(JSON.stringify({ ...claims, role: 'admin', sub: '00000000-0000-4000-8000-000000000000' })).toString('base64url');
    await refusedEverywhere(`${head}.${tampered}.${sig}`, 'tampered payload');
  });

  it('When the token has expired, then it is refused', async () => {
    const now = Math.floor(Date.now() / 1000);
    await refusedEverywhere(signWith(key, { ...claims, iat: now - 120, exp: now - 60 }), 'expired');
  });

  it('When the audience or issuer is wrong, then it is refused', async () => {
    await refusedEverywhere(signWith(key, { ...claims, aud: 'urn:someone-else' }), 'wrong aud');
    await refusedEverywhere(signWith(key, { ...claims, iss: 'urn:someone-else' }), 'wrong iss');
  });

  it('When the token type is not at+jwt, then it is refused even with a valid signature', async () => {
    await refusedEverywhere(signWith(key, claims, { typ: 'JWT' }), 'typ JWT');
  });

  it('When the kid is unknown, then it is refused', async () => {
    await refusedEverywhere(signWith(key, claims, { kid: 'not-a-known-key' }), 'unknown kid');
  });

  it('When a refresh token is presented as a bearer token, then it is refused', async () => {
    await refusedEverywhere(session.refreshToken, 'refresh token as bearer');
  });
});

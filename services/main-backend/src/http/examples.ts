/**
 * Example values shown in the OpenAPI document. A test parses every example with the schema it
 * illustrates, so none can drift from what the API accepts or answers.
 */
const userId = '5b0c8d8e-7a3e-4c1b-9a53-2f1d6c8e4a10';
const sessionId = '0f8e2a6c-3d4b-4e5f-8a9b-1c2d3e4f5a6b';

const user = { id: userId, email: 'ada@example.com', name: 'Ada Lovelace', role: 'manager' as const };
const permissions = ['notifications:send', 'users:read'];

export const EXAMPLE = {
  email: user.email,
  password: 'a long passphrase',
  name: user.name,
  userId,
  sessionId,
  user,
  permissions,
  tokenPair: {
    accessToken: 'eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIiwidHlwIjoiYXQrand0In0.eyJzdWIiOiI1YjBjOGQ4ZSJ9.c2lnbmF0dXJl',
    refreshToken: 'q3Vf0c3l8pD2mW1x9sZ7aB4nR6tY5uE0',
    tokenType: 'Bearer' as const,
    expiresIn: 900,
    user,
    permissions,
    session: { id: sessionId, expiresAt: '2030-01-31T09:00:00.000Z' },
  },
  jwks: {
    keys: [{ kid: 'k1', kty: 'EC', alg: 'ES256', use: 'sig' as const, crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0' }],
  },
  session: { id: sessionId, createdAt: '2030-01-01T09:00:00.000Z', lastUsedAt: '2030-01-01T09:30:00.000Z', userAgent: 'Mozilla/5.0', ip: '203.0.113.7', current: true },
  userListItem: { ...user, emailVerified: true, createdAt: '2030-01-01T08:00:00.000Z', locked: false },
  notificationId: '3f1d2c4b-5a69-4788-9a0b-c1d2e3f4a5b6',
  auditEvent: {
    id: '4712',
    at: '2030-01-01T09:00:00.000Z',
    event: 'login_failed',
    userId,
    user: { name: user.name, email: user.email },
    actorId: null,
    actor: null,
    ip: '203.0.113.7',
    userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
    details: { reason: 'wrong_password' },
  },
};

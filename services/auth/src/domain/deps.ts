/** Everything the auth use cases need, assembled once by the composition root. */
import type { EmailRequestedInput } from '@warren/shared/contracts/email';
import type { Logger } from '@warren/shared/logger';
import type { AuditRepository } from '../db/audit-repository.js';
import type { CodesRepository } from '../db/codes-repository.js';
import type { LoginFailuresRepository } from '../db/login-failures-repository.js';
import type { SessionsRepository } from '../db/sessions-repository.js';
import type { UsersRepository } from '../db/users-repository.js';
import type { SigningKeys } from './signing-keys.js';

export interface AuthSettings {
  issuer: string;
  audience: string;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  /** Per account and address: threshold failures lock for `seconds`; an account-wide burst alerts once per `alertWindowSeconds`. */
  lockout: { threshold: number; seconds: number; alertWindowSeconds: number };
}

export interface AuthDeps {
  users: UsersRepository;
  sessions: SessionsRepository;
  codes: CodesRepository;
  loginFailures: LoginFailuresRepository;
  audit: AuditRepository;
  keys: SigningKeys;
  /** Hands an email to the notification service (through the broker); resolves once queued. */
  requestEmail: (email: Omit<EmailRequestedInput, 'requestedAt'>) => Promise<void>;
  logger: Logger;
  settings: AuthSettings;
}

/** Where a request came from: recorded on sessions and in the audit log. */
export interface ClientInfo {
  ip?: string | undefined;
  userAgent?: string | undefined;
}

/** The authenticated caller of a request (from a verified access token). */
export interface Actor extends ClientInfo {
  userId: string;
  sessionId: string;
}

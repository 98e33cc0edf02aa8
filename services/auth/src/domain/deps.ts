/** Everything the auth use cases need, assembled once by the composition root (service.ts) from the ports' adapters. */
import type {
  AuditLog,
  AuditTrail,
  LoginFailureStore,
  Logger,
  OneTimeCodeStore,
  RequestEmail,
  RoleChanges,
  SessionStore,
  UserAccounts,
} from './ports.js';
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
  users: UserAccounts;
  roleChanges: RoleChanges;
  sessions: SessionStore;
  codes: OneTimeCodeStore;
  loginFailures: LoginFailureStore;
  audit: AuditLog;
  auditTrail: AuditTrail;
  keys: SigningKeys;
  requestEmail: RequestEmail;
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

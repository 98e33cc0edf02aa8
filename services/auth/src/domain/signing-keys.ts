/**
 * The signing key set: ES256 (P-256) keys with an RFC 7638 thumbprint as kid. At start the
 * service makes sure one key is active (creating it if none is); the JWKS lists every key
 * that still verifies, so a rotated-out key keeps verifying its tokens until retired.
 * Rotation (`npm run rotate-signing-key -w services/auth`) makes a new key active and retires
 * the old one once the longest-lived token it signed has expired. Every replica re-reads the
 * key set every SIGNING_KEYS_RELOAD_SECONDS (reload() as a periodic job, wired in service.ts),
 * so all of them sign with the new key within that time.
 */
import { createHash, createPrivateKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import type { Jwks, PublicJwk } from '@warren/shared/contracts/auth-rpc';
import { decryptPrivateKey, encryptPrivateKey } from './key-encryption.js';
import type { Logger, SigningKeyStore } from './ports.js';

const generateKeyPairAsync = promisify(generateKeyPair);
export const SIGNING_ALGORITHM = 'ES256';

export interface ActiveSigningKey {
  kid: string;
  privateKey: KeyObject;
}

/** RFC 7638: SHA-256 over the required EC members in lexicographic order. */
function thumbprint(jwk: { crv?: string; kty?: string; x?: string; y?: string }): string {
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return createHash('sha256').update(canonical).digest('base64url');
}

export class SigningKeys {
  private active: ActiveSigningKey | undefined;
  private jwks: Jwks = { keys: [] };

  constructor(
    private readonly repo: SigningKeyStore,
    private readonly encryptionKey: Buffer | undefined,
    private readonly logger: Logger,
  ) {}

  async ensureActiveKey(): Promise<void> {
    await this.reload();
    if (this.active) return;
    await this.repo.insertActiveIfNone(await this.newKey());
    await this.reload(); // another replica may have won the race: use whichever key is active
    this.logger.info('signing key created', { kid: (await this.signingKey()).kid });
  }

  /** Makes a new key active; the old one keeps verifying for `retireAfterSeconds`. */
  async rotate(retireAfterSeconds: number): Promise<string> {
    const key = await this.newKey();
    await this.repo.rotate(key, retireAfterSeconds);
    await this.reload();
    this.logger.info('signing key rotated', { kid: key.kid, previousRetiresInSeconds: retireAfterSeconds });
    return key.kid;
  }

  private async newKey() {
    const { publicKey, privateKey } = await generateKeyPairAsync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' });
    const kid = thumbprint(jwk);
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    return {
      kid,
      algorithm: SIGNING_ALGORITHM,
      publicJwk: { ...jwk, kid, alg: SIGNING_ALGORITHM, use: 'sig' },
      privateKey: this.encryptionKey ? encryptPrivateKey(pem, this.encryptionKey) : pem,
      privateKeyEncrypted: Boolean(this.encryptionKey),
    };
  }

  async signingKey(): Promise<ActiveSigningKey> {
    if (!this.active) throw new Error('no active signing key');
    return this.active;
  }

  async publicJwks(): Promise<Jwks> {
    return this.jwks;
  }

  /** Re-reads the key set (a rotation by another process shows up here). */
  async reload(): Promise<void> {
    const records = await this.repo.listVerifying();
    const activeRecord = records.find((r) => r.active);
    if (activeRecord?.privateKeyEncrypted && !this.encryptionKey) {
      throw new Error('signing keys are encrypted: set AUTH_KEY_ENCRYPTION_KEY');
    }
    this.active = activeRecord && {
      kid: activeRecord.kid,
      privateKey: createPrivateKey(
        activeRecord.privateKeyEncrypted ? decryptPrivateKey(activeRecord.privateKey, this.encryptionKey as Buffer) : activeRecord.privateKey,
      ),
    };
    this.jwks = { keys: records.map((r) => r.publicJwk as PublicJwk) };
  }
}

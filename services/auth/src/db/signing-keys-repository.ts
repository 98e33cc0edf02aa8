/** Access-token signing keys as stored: public JWK in clear, private key (usually) encrypted. */
import { inTransaction, type Pool } from '@warren/shared/db/database';
import type { SigningKeyRecord, SigningKeyStore } from '../domain/ports.js';

const COLUMNS = `kid, algorithm, public_jwk AS "publicJwk", private_key AS "privateKey",
  private_key_encrypted AS "privateKeyEncrypted", active`;

export class SigningKeysRepository implements SigningKeyStore {
  constructor(private readonly pool: Pool) {}

  /** Keys that still verify: the active one and retired ones not yet past retired_at. */
  async listVerifying(): Promise<SigningKeyRecord[]> {
    const { rows } = await this.pool.query<SigningKeyRecord>(
      `SELECT ${COLUMNS} FROM signing_keys WHERE active OR retired_at > now() ORDER BY created_at DESC`,
    );
    return rows;
  }

  /** Inserts a new active key unless one is already active (several replicas may try at once). */
  async insertActiveIfNone(k: Omit<SigningKeyRecord, 'active'>): Promise<void> {
    await this.pool.query(
      `INSERT INTO signing_keys (kid, algorithm, public_jwk, private_key, private_key_encrypted, active)
       VALUES ($1, $2, $3, $4, $5, true)
       ON CONFLICT DO NOTHING`,
      [k.kid, k.algorithm, k.publicJwk, k.privateKey, k.privateKeyEncrypted],
    );
  }

  /** Retires the active key (still verifying for `retireAfterSeconds`) and activates `k`. */
  async rotate(k: Omit<SigningKeyRecord, 'active'>, retireAfterSeconds: number): Promise<void> {
    await inTransaction(this.pool, async (tx) => {
      await tx.query(
        'UPDATE signing_keys SET active = false, retired_at = now() + make_interval(secs => $1) WHERE active',
        [retireAfterSeconds],
      );
      await tx.query(
        `INSERT INTO signing_keys (kid, algorithm, public_jwk, private_key, private_key_encrypted, active)
         VALUES ($1, $2, $3, $4, $5, true)`,
        [k.kid, k.algorithm, k.publicJwk, k.privateKey, k.privateKeyEncrypted],
      );
    });
  }
}

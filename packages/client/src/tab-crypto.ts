/**
 * What keeps the tabs' coordination to the tabs of one session: a random secret made at login,
 * kept in `sessionStorage` beside the refresh token (a duplicated tab inherits it; no other tab,
 * even of the same origin, ever sees it), from which two keys are derived (HKDF-SHA-256):
 *
 * - AES-256-GCM for every message on the BroadcastChannel and every generation record in
 *   IndexedDB: a fresh 96-bit nonce per message, the kind of message and the session id bound as
 *   additional data. Anything that does not decrypt under the session's key (a message from a
 *   page that lacks the secret, one of another session, one altered or of another kind) is dropped;
 * - HMAC-SHA-256 naming a session's IndexedDB record, so that the store holds no session id.
 *
 * WebCrypto only (browsers in a secure context — https, localhost — and Node 20); the browser
 * coordinator is off where it is missing (cross-tab.ts).
 */

/** The subset of WebCrypto used here, typed by hand: the client also compiles without the DOM lib. */
interface Subtle {
  importKey(format: 'raw', keyData: Uint8Array, algorithm: string, extractable: false, usages: string[]): Promise<unknown>;
  deriveKey(algorithm: object, baseKey: unknown, derivedKeyType: object, extractable: false, usages: string[]): Promise<unknown>;
  encrypt(algorithm: object, key: unknown, data: Uint8Array): Promise<ArrayBuffer>;
  decrypt(algorithm: object, key: unknown, data: Uint8Array | ArrayBuffer): Promise<ArrayBuffer>;
  sign(algorithm: string, key: unknown, data: Uint8Array): Promise<ArrayBuffer>;
}

/** A message or record as it travels and is stored: only its kind is readable. */
export interface Sealed {
  v: 1;
  kind: string;
  iv: Uint8Array;
  data: ArrayBuffer;
}

export interface TabKeys {
  /** Encrypts `body` for the tabs of `sessionId`, as a `kind` (which the receiver must expect). */
  seal(kind: string, sessionId: string, body: unknown): Promise<Sealed>;
  /** The body, if `sealed` is a `kind` (any, if not given) of `sessionId` sealed with this secret; else undefined. */
  open(sealed: unknown, sessionId: string, kind?: string): Promise<{ kind: string; body: unknown } | undefined>;
  /** The name of the session's IndexedDB record: an HMAC of its id, not the id. */
  recordId(sessionId: string): Promise<string>;
}

const SECRET_BYTES = 32;
const NONCE_BYTES = 12;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function subtle(): Subtle | null {
  const c = (globalThis as unknown as { crypto?: { subtle?: Subtle } }).crypto;
  return c?.subtle && typeof c.subtle.deriveKey === 'function' ? c.subtle : null;
}

/** Whether this runtime can seal tab messages (WebCrypto; a browser gives it to secure contexts only). */
export function canSeal(): boolean {
  return subtle() !== null;
}

/** A new session secret: 256 random bits, as hex (kept in sessionStorage). */
export function newSecret(): string {
  return toHex(globalThis.crypto.getRandomValues(new Uint8Array(SECRET_BYTES)));
}

/** The keys of the secret, or null if it is malformed or WebCrypto is missing. */
export async function tabKeys(secret: string): Promise<TabKeys | null> {
  const s = subtle();
  const raw = fromHex(secret);
  if (!s || !raw || raw.length !== SECRET_BYTES) return null;
  try {
    const base = await s.importKey('raw', raw, 'HKDF', false, ['deriveKey']);
    const hkdf = (info: string) => ({ name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: encoder.encode(info) });
    const aead = await s.deriveKey(hkdf('warren-client tabs: messages v1'), base, { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
    const mac = await s.deriveKey(hkdf('warren-client tabs: record names v1'), base, { name: 'HMAC', hash: 'SHA-256', length: 256 }, false, ['sign']);
    const aad = (kind: string, sessionId: string) => encoder.encode(JSON.stringify(['warren-client', 1, kind, sessionId]));
    return {
      async seal(kind, sessionId, body) {
        const iv = globalThis.crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
        const data = await s.encrypt({ name: 'AES-GCM', iv, additionalData: aad(kind, sessionId) }, aead, encoder.encode(JSON.stringify(body)));
        return { v: 1, kind, iv, data };
      },
      async open(sealed, sessionId, kind) {
        if (!isSealed(sealed) || (kind !== undefined && sealed.kind !== kind)) return undefined;
        try {
          const plain = await s.decrypt({ name: 'AES-GCM', iv: sealed.iv, additionalData: aad(sealed.kind, sessionId) }, aead, sealed.data);
          return { kind: sealed.kind, body: JSON.parse(decoder.decode(plain)) as unknown };
        } catch {
          return undefined; // not sealed with this secret for this session and kind
        }
      },
      async recordId(sessionId) {
        return toHex(new Uint8Array(await s.sign('HMAC', mac, encoder.encode(sessionId))));
      },
    };
  } catch {
    return null;
  }
}

function isSealed(x: unknown): x is Sealed {
  if (typeof x !== 'object' || x === null) return false;
  const m = x as Record<string, unknown>;
  return m.v === 1 && typeof m.kind === 'string' && m.iv instanceof Uint8Array && m.iv.length === NONCE_BYTES
    && (m.data instanceof ArrayBuffer || m.data instanceof Uint8Array);
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function fromHex(hex: string): Uint8Array | null {
  if (!/^(?:[0-9a-f]{2})+$/.test(hex)) return null;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

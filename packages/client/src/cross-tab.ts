/**
 * Refresh coordination between the tabs of one browser that hold the same session: a tab the
 * browser duplicated starts with a copy of the other's `sessionStorage`, so both hold the same
 * refresh token. Refresh tokens rotate and a rotated one presented again ends the whole session
 * (reuse detection), so the two must never both refresh with one token.
 *
 * Three browser pieces, each for what only it guarantees (docs/decisions/0027):
 * - a Web Lock per storage key: one refresh at a time across the origin's tabs;
 * - IndexedDB keeps, per session, the *generation* of its newest refresh token (a counter and a
 *   random tag, never a token). It is written and committed before the lock is released, so the
 *   next holder of the lock reads it: a tab whose own generation is older knows its token was
 *   rotated, even if no message from the other tab has reached it yet;
 * - a BroadcastChannel tells the session's tabs that a newer token exists, carries the pair to a
 *   tab that asks for it, and tells them when the session ended (logout, refused refresh).
 *
 * Every page of the origin shares these three (the portals of one bucket share an origin), so
 * what goes through the store and the channel is sealed with a secret only the session's tabs
 * hold (tab-crypto.ts, sealed and opened by session.ts): this file only carries it.
 */
import { canSeal } from './tab-crypto.js';
import type { TabCoordinator } from './types.js';

/** A generation: `<counter>.<random tag>`; duplicated tabs share the counter until one refreshes. */
export function nextGeneration(previous: string | null): string {
  return `${generationNumber(previous) + 1}.${randomTag()}`;
}

/** Whether `a` is a later generation than `b` (a missing one is older than any). */
export function isNewer(a: string | null, b: string | null): boolean {
  return generationNumber(a) > generationNumber(b);
}

function generationNumber(g: string | null): number {
  const n = g ? Number.parseInt(g, 10) : 0;
  return Number.isSafeInteger(n) && n > 0 ? n : 0;
}

function randomTag(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(8));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

// The few browser interfaces used here, typed by hand: the client also compiles for Node (no DOM lib).
interface Locks {
  request<T>(name: string, options: { mode: 'exclusive' }, callback: () => Promise<T>): Promise<T>;
}
interface Channel {
  onmessage: ((event: { data: unknown }) => void) | null;
  postMessage(message: unknown): void;
}
interface IdbRequest<T = unknown> {
  readonly result: T;
  onsuccess: (() => void) | null;
  onerror: (() => void) | null;
}
interface IdbCursor {
  readonly value: unknown;
  delete(): unknown;
  continue(): void;
}
interface IdbStore {
  get(key: string): IdbRequest;
  put(value: unknown, key: string): IdbRequest;
  delete(key: string): IdbRequest;
  openCursor(): IdbRequest<IdbCursor | null>;
}
interface IdbTransaction {
  objectStore(name: string): IdbStore;
  oncomplete: (() => void) | null;
  onerror: (() => void) | null;
  onabort: (() => void) | null;
}
interface IdbDatabase {
  transaction(store: string, mode: 'readonly' | 'readwrite'): IdbTransaction;
  createObjectStore(name: string): unknown;
  deleteObjectStore(name: string): void;
  readonly objectStoreNames: { contains(name: string): boolean };
  onversionchange: (() => void) | null;
  close(): void;
}
interface IdbOpenRequest extends IdbRequest<IdbDatabase> {
  onupgradeneeded: (() => void) | null;
  onblocked: (() => void) | null;
}
interface IdbFactory {
  open(name: string, version: number): IdbOpenRequest;
}

const DB_NAME = 'warren-client';
/** Version 2: records named by an HMAC and sealed; version 1's store named sessions in the clear. */
const DB_VERSION = 2;
const STORE = 'records';
const OLD_STORES = ['generations'];
/** Records of sessions no tab refreshed for this long are swept (a refresh token lives 30 days). */
const RECORD_TTL_MS = 31 * 24 * 3600 * 1000;

/**
 * The browser's coordinator for refresh tokens kept under `key`, or null where a piece is
 * missing (Node, an old browser, a page not in a secure context, which has no WebCrypto to seal
 * with): the client then coordinates within its own tab only. IndexedDB blocked (private modes)
 * leaves the lock and the channel.
 */
export function browserTabCoordinator(key: string): TabCoordinator | null {
  const g = globalThis as unknown as {
    navigator?: { locks?: Locks };
    BroadcastChannel?: new (name: string) => Channel;
    indexedDB?: IdbFactory;
  };
  const locks = g.navigator?.locks;
  if (typeof locks?.request !== 'function' || typeof g.BroadcastChannel !== 'function' || !g.indexedDB || !canSeal()) return null;
  let channel: Channel;
  try {
    channel = new g.BroadcastChannel(`warren-client:${key}`);
  } catch {
    return null;
  }
  const idb = g.indexedDB;
  const listeners = new Set<(m: unknown) => void>();
  channel.onmessage = (event) => {
    for (const listener of [...listeners]) listener(event.data);
  };
  let db: Promise<IdbDatabase | null> | null = null;
  const open = () =>
    (db ??= new Promise<IdbDatabase | null>((resolve) => {
      let request: IdbOpenRequest;
      try {
        request = idb.open(DB_NAME, DB_VERSION);
      } catch {
        return resolve(null);
      }
      request.onupgradeneeded = () => {
        const database = request.result;
        for (const old of OLD_STORES) if (database.objectStoreNames.contains(old)) database.deleteObjectStore(old);
        if (!database.objectStoreNames.contains(STORE)) database.createObjectStore(STORE);
      };
      request.onsuccess = () => {
        const database = request.result;
        // A newer version opened in another tab: step aside (its transactions wait for this close).
        database.onversionchange = () => {
          database.close();
          db = null;
        };
        resolve(database);
      };
      // Blocked or refused (private mode of some browsers): no generations, messages still work.
      request.onerror = () => resolve(null);
      request.onblocked = () => resolve(null);
    }));

  /** One transaction, resolved once committed (so the next lock holder sees what it wrote). */
  async function transact<T>(mode: 'readonly' | 'readwrite', work: (store: IdbStore) => IdbRequest | void): Promise<T | null> {
    const database = await open();
    if (!database) return null;
    return new Promise<T | null>((resolve) => {
      let tx: IdbTransaction;
      try {
        tx = database.transaction(STORE, mode);
      } catch {
        return resolve(null);
      }
      const request = work(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(request ? (request.result as T) : null);
      tx.onerror = () => resolve(null);
      tx.onabort = () => resolve(null);
    });
  }

  return {
    exclusive: (fn) => locks.request(`warren-client:refresh:${key}`, { mode: 'exclusive' }, fn),
    async read(id) {
      const record = await transact<{ value?: unknown } | undefined>('readonly', (store) => store.get(id));
      return typeof record === 'object' && record !== null ? record.value : undefined;
    },
    async write(id, value) {
      const now = Date.now();
      await transact('readwrite', (store) => {
        store.put({ value, at: now }, id);
        // Sweep sessions whose tabs are long gone: their refresh tokens have expired.
        const sweep = store.openCursor();
        sweep.onsuccess = () => {
          const cursor = sweep.result;
          if (!cursor) return;
          const at = (cursor.value as { at?: unknown }).at;
          if (typeof at !== 'number' || at < now - RECORD_TTL_MS) cursor.delete();
          cursor.continue();
        };
      });
    },
    async remove(id) {
      await transact('readwrite', (store) => store.delete(id));
    },
    post(message) {
      try {
        channel.postMessage(message);
      } catch {
        // A closed channel (the page is going away): nobody left to tell.
      }
    },
    onMessage(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/**
 * The outbox kept in IndexedDB (docs/architecture.md, "The page", "Delivery until acknowledged"), so a message
 * written but not yet stored by the server survives a reload, a closed tab or a crash: every entry still
 * `sending` or `failed` is written here with its `clientMessageId`, and removed once it is `sent` or
 * `discarded`. When the page opens again it queues what it finds with the same ids, so the server, which
 * dedupes by `clientMessageId`, stores each message once.
 *
 * Entries are keyed by user (one browser may hold several names) and kept at most {@link OUTBOX_KEEP_MS}.
 * Without IndexedDB (a private window that refuses it) the outbox still works, for this page's life only.
 */

/** The database and its one object store. */
export const OUTBOX_DB = 'chat-outbox';
export const OUTBOX_STORE = 'pending';
/** How long an unsent message is kept for its writer to come back, in milliseconds (a week). */
export const OUTBOX_KEEP_MS = 7 * 24 * 3600_000;

/**
 * @typedef {{ key: string, user: string, clientMessageId: string, conversation: string,
 *   payload: Record<string, unknown>, savedAt: number, seq: number }} StoredEntry
 */

/** @returns {Promise<IDBDatabase | null>} */
function openDatabase() {
  return new Promise((resolve) => {
    let request;
    try {
      request = indexedDB.open(OUTBOX_DB, 1);
    } catch {
      resolve(null);
      return;
    }
    request.onupgradeneeded = () => {
      const store = request.result.createObjectStore(OUTBOX_STORE, { keyPath: 'key' });
      store.createIndex('user', 'user');
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => resolve(null);
    request.onblocked = () => resolve(null);
  });
}

/** @param {IDBRequest | IDBTransaction} request @returns {Promise<any>} */
function settled(request) {
  return new Promise((resolve, reject) => {
    if ('oncomplete' in request) {
      request.oncomplete = () => resolve(undefined);
      request.onabort = () => reject(request.error);
    } else {
      request.onsuccess = () => resolve(request.result);
    }
    request.onerror = () => reject(request.error);
  });
}

/**
 * The store of one user's unsent messages.
 * @param {string} user
 * @param {{ now?: () => number }} [options]
 */
export function createOutboxStore(user, { now = Date.now } = {}) {
  const database = typeof indexedDB === 'undefined' ? Promise.resolve(null) : openDatabase();
  /** Writes go in order, one after another, so a `sent` never lands before the `sending` it follows. */
  let writes = Promise.resolve();
  /** Orders entries saved in the same millisecond. */
  let seq = 0;
  /** Set by {@link close} and {@link clear}: nothing is written any more for this page's life. */
  let closed = false;
  /** The clientMessageIds whose entry is written on this browser: a reload or a closed tab loses none of them. */
  const kept = new Set();

  /**
   * @param {(store: IDBObjectStore) => void} change
   * @param {() => void} [done] runs once the change is written (never when it could not be)
   */
  function write(change, done) {
    writes = writes
      .then(async () => {
        const db = await database;
        if (!db) return;
        const tx = db.transaction(OUTBOX_STORE, 'readwrite');
        change(tx.objectStore(OUTBOX_STORE));
        await settled(tx);
        done?.();
      })
      .catch(() => {
        // Storage full or refused: the message still waits in the page; only the copy is lost.
      });
    return writes;
  }

  return {
    /**
     * Keeps or forgets an outbox entry as it changes (the outbox's `onChange`).
     * @param {Readonly<import('./outbox.js').OutboxEntry>} entry
     */
    record(entry) {
      if (closed) return writes;
      const id = entry.clientMessageId;
      const key = `${user}\n${id}`;
      if (entry.status === 'sent' || entry.status === 'discarded') {
        kept.delete(id);
        // Also once written: a write of the entry queued before this one may mark it kept meanwhile.
        return write(
          (s) => s.delete(key),
          () => kept.delete(id),
        );
      }
      // Only the first write counts: a resend keeps the entry where it was in the writer's order.
      const order = { savedAt: now(), seq: seq++ };
      return write(
        (s) => {
          const found = s.get(key);
          found.onsuccess = () => {
            if (found.result) return;
            /** @type {StoredEntry} */
            const stored = {
              key,
              user,
              clientMessageId: entry.clientMessageId,
              conversation: entry.conversation,
              payload: entry.payload,
              ...order,
            };
            s.put(stored);
          };
        },
        () => {
          if (!closed) kept.add(id);
        },
      );
    },

    /**
     * Whether the message `clientMessageId` is written on this browser, so leaving the page loses nothing: it
     * leaves on the next visit (false without IndexedDB, or before its write is done).
     * @param {string} clientMessageId
     */
    isKept(clientMessageId) {
      return kept.has(clientMessageId);
    },

    /**
     * This user's unsent messages, oldest first; those older than {@link OUTBOX_KEEP_MS} are dropped.
     * @returns {Promise<StoredEntry[]>}
     */
    async load() {
      const db = await database;
      if (!db) return [];
      try {
        const tx = db.transaction(OUTBOX_STORE, 'readwrite');
        const store = tx.objectStore(OUTBOX_STORE);
        /** @type {StoredEntry[]} */
        const all = await settled(store.index('user').getAll(user));
        const fresh = [];
        for (const entry of all) {
          if (now() - entry.savedAt > OUTBOX_KEEP_MS) store.delete(entry.key);
          else fresh.push(entry);
        }
        await settled(tx);
        return fresh.sort((a, b) => a.savedAt - b.savedAt || a.seq - b.seq);
      } catch {
        return [];
      }
    },

    /**
     * Forgets every unsent message of this user on this browser, after the writes before it, and keeps nothing
     * more for this page's life (signing out of a shared browser: docs/architecture.md, "The page").
     * Resolves once they are gone.
     */
    clear() {
      closed = true;
      kept.clear();
      return write((s) => deleteEntriesOf(s, user));
    },

    /**
     * Writes nothing more for this page's life and leaves what is kept as it is, for this user's next visit (the
     * page is no longer for the browser's signed-in person: docs/architecture.md, "The page", "Sign-out across
     * tabs").
     */
    close() {
      closed = true;
    },

    /** Resolves when every write so far is done. */
    flushed() {
      return writes;
    },
  };
}

/**
 * Deletes every entry of `user` in `store` (in the store's transaction).
 * @param {IDBObjectStore} store
 * @param {string} user
 */
function deleteEntriesOf(store, user) {
  const keys = store.index('user').getAllKeys(user);
  keys.onsuccess = () => {
    for (const key of keys.result) store.delete(key);
  };
}

/**
 * The contract between a session manager and the place sessions are kept,
 * and what a store can offer beyond it.
 *
 * A store holds opaque bytes under a token until an expiry time. It never
 * interprets the bytes: encoding is the session manager's job. Every store
 * implements {@linkcode Store}. A store says what more it can do by having
 * more methods, and `SessionManager` looks for them each time it needs
 * them (with {@linkcode isVersionedStore}):
 *
 * - {@linkcode IterableStore} (`all`): lists sessions, for
 *   `SessionManager.iterate`.
 * - {@linkcode VersionedStore} (`findVersioned`, `commitVersioned`):
 *   compare-and-set writes, so overlapping requests are merged and an ended
 *   session stays ended across every process that shares the store.
 *
 * A wrapper around a store (for metrics, say) keeps a capability only if it
 * forwards its methods; a subclass inherits them.
 *
 * @module
 */

/**
 * A place to keep session data: the TypeScript form of SCS's `Store`.
 *
 * Implementations must treat a session as live while `Date.now() < expiry`,
 * and must not report an error for a token that is missing or expired.
 *
 * @example A store that keeps sessions in a `Map`
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Store } from "@sessions/memstore";
 *
 * class MapStore implements Store {
 *   #sessions = new Map<string, { data: Uint8Array; expiry: number }>();
 *   find(token: string): Promise<Uint8Array | undefined> {
 *     const item = this.#sessions.get(token);
 *     if (item === undefined || Date.now() >= item.expiry) {
 *       return Promise.resolve(undefined);
 *     }
 *     return Promise.resolve(item.data.slice());
 *   }
 *   commit(token: string, data: Uint8Array, expiry: Date): Promise<void> {
 *     this.#sessions.set(token, { data: data.slice(), expiry: expiry.getTime() });
 *     return Promise.resolve();
 *   }
 *   delete(token: string): Promise<void> {
 *     this.#sessions.delete(token);
 *     return Promise.resolve();
 *   }
 * }
 *
 * const store: Store = new MapStore();
 * await store.commit("token", new Uint8Array([1]), new Date(Date.now() + 60_000));
 * assert.equal((await store.find("token"))?.[0], 1);
 * ```
 */
export interface Store {
  /**
   * Looks up a session.
   *
   * @param token The session token.
   * @returns The session's bytes, or `undefined` when the token is unknown or
   * the session has expired.
   */
  find(token: string): Promise<Uint8Array | undefined>;
  /**
   * Inserts or replaces a session's bytes and expiry.
   *
   * @param token The session token.
   * @param data The encoded session.
   * @param expiry When the session stops being live.
   */
  commit(token: string, data: Uint8Array, expiry: Date): Promise<void>;
  /**
   * Removes a session. A token that is not held is not an error.
   *
   * @param token The session token.
   */
  delete(token: string): Promise<void>;
}

/**
 * A {@linkcode Store} that can list its sessions: SCS's `IterableStore`.
 *
 * @example Listing every live session
 * ```ts
 * import assert from "node:assert/strict";
 * import type { IterableStore } from "@sessions/memstore";
 * import { MemStore } from "@sessions/memstore";
 *
 * using memStore = new MemStore();
 * const store: IterableStore = memStore;
 * await store.commit("a", new Uint8Array([1]), new Date(Date.now() + 60_000));
 * const sessions = await store.all();
 * assert.equal(sessions.size, 1);
 * ```
 */
export interface IterableStore extends Store {
  /**
   * Lists every live session.
   *
   * @returns A new `Map` from token to a copy of each live session's bytes.
   */
  all(): Promise<Map<string, Uint8Array>>;
}

/**
 * What a versioned store holds under a token: a session, or the marker an
 * ended session leaves behind. Any value but `null` and `undefined`, which
 * the store compares; the caller only hands it back.
 */
export type Version = string | number | bigint | object;

/** A session, or an ended session's marker, read with its version. */
export interface VersionedEntry {
  /**
   * The bytes: the encoded session, or the marker. They may be the store's
   * own: never modify them.
   */
  data: Uint8Array;
  /** Changes with every write of the token. */
  version: Version;
  /** When the entry stops being live. */
  expiry: Date;
  /**
   * `true` for the marker of an ended session: `find` and `all` never
   * return it.
   */
  ended: boolean;
}

/** One write of {@linkcode VersionedStore.commitVersioned}. */
export interface VersionedWrite {
  /** The token to write. */
  token: string;
  /**
   * What must be there for the write to happen: the version of the entry
   * read, or `null` for nothing live (no session and no marker).
   */
  ifVersion: Version | null;
  /**
   * The bytes to store. The store may keep this very array: the caller
   * must not modify it after the call.
   */
  data: Uint8Array;
  /** When the entry stops being live; at or before now, it is removed. */
  expiry: Date;
  /** Whether to store the marker of an ended session instead of a session. */
  ended?: boolean;
  /**
   * For a {@linkcode UserIndexStore}: the user whose sessions this entry is
   * listed among after the write; none when absent. A marker is never
   * listed, whatever this says.
   */
  user?: string | undefined;
}

/**
 * A {@linkcode Store} with compare-and-set writes: it reads an entry with
 * its version, and writes only while the versions are still the ones read.
 * `SessionManager` uses these methods whenever a store has both; with
 * them, overlapping requests of a session are merged key by key, and a
 * destroyed or renewed session stays ended, across every process that
 * shares the store. A plain `Store` gets the same guarantees within one
 * process only.
 *
 * Rules for an implementation (the conformance kit in
 * `@sessions/memstore/testing` checks them):
 * - an entry is live while `Date.now() < expiry`; an expired one (a marker
 *   too) reads as absent, `ifVersion: null` accepts it, and a version read
 *   before it expired no longer matches;
 * - `commitVersioned` is atomic: every write's `ifVersion` matches and all
 *   writes happen, or none does and it answers `false`;
 * - every write gives the token a new version;
 * - markers (`ended: true`) are seen only by `findVersioned`;
 * - a value the store did not write (another app's key) is no entry.
 *
 * @example Moving a session to a new token, if nobody changed it meanwhile
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemStore } from "@sessions/memstore";
 *
 * using store = new MemStore();
 * const expiry = new Date(Date.now() + 60_000);
 * await store.commitVersioned([{ token: "a", ifVersion: null, data: new Uint8Array([1]), expiry }]);
 * const read = await store.findVersioned("a");
 * const moved = await store.commitVersioned([
 *   { token: "b", ifVersion: null, data: read!.data, expiry },
 *   { token: "a", ifVersion: read!.version, data: new Uint8Array(), expiry, ended: true },
 * ]);
 * assert.equal(moved, true);
 * assert.equal(await store.find("a"), undefined); // a marker now
 * assert.equal((await store.findVersioned("a"))?.ended, true);
 * // A second writer with the old version changes nothing:
 * assert.equal(await store.commitVersioned([{ token: "a", ifVersion: read!.version, data: read!.data, expiry }]), false);
 * ```
 */
export interface VersionedStore extends Store {
  /**
   * Reads the live session or marker under a token, with its version.
   *
   * @param token The token.
   * @returns The entry, or `undefined` when nothing live is there.
   */
  findVersioned(token: string): Promise<VersionedEntry | undefined>;
  /**
   * Writes entries, all or none, if each token's version is still the one
   * given.
   *
   * @param writes The writes.
   * @returns Whether they were written.
   */
  commitVersioned(writes: readonly VersionedWrite[]): Promise<boolean>;
}

/**
 * Whether a store has the methods of a {@linkcode VersionedStore} now.
 *
 * @param store Any store.
 * @returns `true` when both `findVersioned` and `commitVersioned` are
 * functions.
 *
 * @example Checking a store's capabilities
 * ```ts
 * import assert from "node:assert/strict";
 * import { isVersionedStore, MemStore, type Store } from "@sessions/memstore";
 *
 * using memStore = new MemStore();
 * const plain: Store = {
 *   find: (token) => memStore.find(token),
 *   commit: (token, data, expiry) => memStore.commit(token, data, expiry),
 *   delete: (token) => memStore.delete(token),
 * };
 * assert.equal(isVersionedStore(memStore), true);
 * assert.equal(isVersionedStore(plain), false); // forwards no capability
 * ```
 */
export function isVersionedStore(store: Store): store is VersionedStore {
  const s = store as Partial<VersionedStore>;
  return typeof s.findVersioned === "function" &&
    typeof s.commitVersioned === "function";
}

/**
 * A {@linkcode VersionedStore} that also keeps, for each user, the list of
 * their sessions: the per-user index behind `SessionManager`'s `users`
 * (a device list, signing out one device or all of them), at a cost of
 * that user's sessions, never a scan of all.
 *
 * Rules for an implementation (the conformance kit checks them):
 * - a write's `user` lists its token under that user, and no longer under
 *   the user of the token's previous write, in the same atomic
 *   `commitVersioned` as the entry (a write refused for its versions
 *   changes no list either);
 * - a marker (`ended: true`), a deleted token, a removed or expired entry
 *   (by expiry, sweep or eviction) is listed under no user;
 * - the index holds nothing for a user once their sessions are gone: it
 *   does not grow without bound.
 *
 * @example Listing a user's sessions
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemStore } from "@sessions/memstore";
 *
 * using store = new MemStore();
 * const expiry = new Date(Date.now() + 60_000);
 * const data = new Uint8Array([1]);
 * await store.commitVersioned([{ token: "a", ifVersion: null, data, expiry, user: "ada" }]);
 * await store.commitVersioned([{ token: "b", ifVersion: null, data, expiry, user: "ada" }]);
 * assert.deepEqual([...(await store.findByUser("ada")).keys()].sort(), ["a", "b"]);
 * const b = await store.findVersioned("b");
 * await store.commitVersioned([{ token: "b", ifVersion: b!.version, data, expiry, ended: true }]);
 * assert.deepEqual([...(await store.findByUser("ada")).keys()], ["a"]);
 * ```
 */
export interface UserIndexStore extends VersionedStore {
  /**
   * Reads the live sessions listed under a user.
   *
   * @param user The user.
   * @returns A new `Map` from token to entry (never a marker); empty for a
   * user with no live session.
   */
  findByUser(user: string): Promise<Map<string, VersionedEntry>>;
}

/**
 * Whether a store has the methods of a {@linkcode UserIndexStore} now.
 *
 * @param store Any store.
 * @returns `true` when it is a {@linkcode VersionedStore} with a
 * `findByUser` function.
 *
 * @example Checking for the per-user index
 * ```ts
 * import assert from "node:assert/strict";
 * import { isUserIndexStore, MemStore } from "@sessions/memstore";
 *
 * using store = new MemStore();
 * assert.equal(isUserIndexStore(store), true);
 * ```
 */
export function isUserIndexStore(store: Store): store is UserIndexStore {
  return isVersionedStore(store) &&
    typeof (store as Partial<UserIndexStore>).findByUser === "function";
}

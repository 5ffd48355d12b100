/**
 * {@linkcode MemStore}: an in-memory session store, the Deno counterpart of
 * SCS's `memstore`.
 *
 * @module
 */

import { memStoreConfig, type MemStoreOptions } from "./_memstore_options.ts";
import { SYNC, type SyncStore } from "./_in_memory.ts";
import { SlotTable } from "./_slots.ts";
import {
  checkData,
  checkToken,
  checkUser,
  checkWrites,
  settled,
  timeOf,
} from "./_store_args.ts";
import { Sweep } from "./_sweep.ts";
import type {
  IterableStore,
  UserIndexStore,
  VersionedEntry,
  VersionedWrite,
} from "./store.ts";

// The types its API names, for readers of this module alone.
export type { MemStoreOptions } from "./_memstore_options.ts";
export type {
  IterableStore,
  Store,
  UserIndexStore,
  Version,
  VersionedEntry,
  VersionedStore,
  VersionedWrite,
} from "./store.ts";

/** Counts kept by a {@linkcode MemStore} since it was created. */
export interface MemStoreStats {
  /** Reads that found a live entry (`find` finds sessions only). */
  hits: number;
  /** Reads that found nothing: the token was unknown or had expired. */
  misses: number;
  /** Expired entries removed from memory (by the sweep or to make room). */
  expired: number;
  /** Live entries evicted to stay within `maxSessions` or `maxBytes`. */
  evicted: number;
}

/**
 * An in-memory {@linkcode IterableStore}: fast, and gone when the process
 * stops. Use it for a single process where losing sessions on restart is
 * acceptable, for prototypes, and in tests.
 *
 * Sessions are live while `Date.now() < expiry`. A background sweep removes
 * expired sessions from memory every `cleanupInterval` ms, a slice of at most
 * a few milliseconds at a time, so it never stalls the server; its cost grows
 * with the number of expired sessions, not with the number held. The sweep's
 * timer never keeps the process alive, and `using` stops it.
 *
 * Stored bytes are copied in and out by `find`, `commit` and `all`:
 * changing an array passed to {@linkcode MemStore.commit} or returned by
 * {@linkcode MemStore.find} never changes what is stored. Memory can be
 * bounded with `maxSessions` and `maxBytes`: the entries closest to expiry
 * make room for new ones.
 *
 * It is also a {@linkcode VersionedStore}: `SessionManager` writes it with
 * compare-and-set, and, in the same process, reads and writes it
 * synchronously and without copies (as long as `findVersioned` and
 * `commitVersioned` are MemStore's own: a subclass that replaces them is
 * called through them, like any store).
 *
 * @example Storing and finding a session
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemStore } from "@sessions/memstore";
 *
 * using store = new MemStore();
 * const data = new TextEncoder().encode("hello");
 * await store.commit("token", data, new Date(Date.now() + 60_000));
 *
 * const found = await store.find("token");
 * assert.equal(new TextDecoder().decode(found), "hello");
 * await store.delete("token");
 * assert.equal(await store.find("token"), undefined);
 * ```
 */
export class MemStore implements IterableStore, UserIndexStore, Disposable {
  #table: SlotTable;
  #sweep: Sweep;
  #hits = 0;
  #misses = 0;

  static {
    // The manager's synchronous access (_in_memory.ts), kept out of the
    // public type: a method under a symbol that only the package holds.
    Object.defineProperty(MemStore.prototype, SYNC, {
      value(this: MemStore): SyncStore | undefined {
        const own = MemStore.prototype;
        if (
          this.findVersioned !== own.findVersioned ||
          this.commitVersioned !== own.commitVersioned
        ) {
          return undefined;
        }
        return this.#sync;
      },
    });
  }

  #sync: SyncStore = {
    findVersioned: (token) => this.#findVersioned(token),
    commitVersioned: (writes) => this.#commitVersioned(writes),
  };

  /**
   * Creates a store and starts its sweep of expired sessions.
   *
   * @param options How often to sweep, and the bounds on what is held.
   * @throws {TypeError} When an option is not a number.
   * @throws {RangeError} When `cleanupInterval` is negative, not finite, or
   * longer than a timer can wait (2147483647 ms), or a bound is not a whole
   * number >= 1 or `Infinity`.
   *
   * @example Sweeping every 30 seconds, or never
   * ```ts
   * import { MemStore } from "@sessions/memstore";
   *
   * using everyThirtySeconds = new MemStore({ cleanupInterval: 30_000 });
   * using neverSweeps = new MemStore({ cleanupInterval: 0 });
   * ```
   */
  constructor(options: MemStoreOptions = {}) {
    const { cleanupInterval, maxSessions, maxBytes } = memStoreConfig(options);
    this.#table = new SlotTable(maxSessions, maxBytes);
    this.#sweep = new Sweep(this.#table, cleanupInterval);
  }

  /**
   * Sessions held in memory, including expired ones not yet swept. The
   * markers that ended sessions leave are not counted here, but they are
   * in {@linkcode MemStore.bytes} and against `maxSessions`.
   */
  get size(): number {
    return this.#table.count - this.#table.markers;
  }

  /**
   * Bytes held: every entry's data plus one byte per character of its
   * token, including expired entries not yet swept.
   */
  get bytes(): number {
    return this.#table.bytes;
  }

  /**
   * Counts of hits, misses, expired and evicted entries since the store was
   * created. Always kept: each is one addition.
   *
   * @returns A new object with the counts.
   *
   * @example Reading the counts
   * ```ts
   * import assert from "node:assert/strict";
   * import { MemStore } from "@sessions/memstore";
   *
   * using store = new MemStore({ maxSessions: 1 });
   * const inAMinute = new Date(Date.now() + 60_000);
   * await store.commit("a", new Uint8Array([1]), inAMinute);
   * await store.commit("b", new Uint8Array([2]), inAMinute); // evicts "a"
   * await store.find("a");
   * await store.find("b");
   * assert.deepEqual(store.stats(), { hits: 1, misses: 1, expired: 0, evicted: 1 });
   * ```
   */
  stats(): MemStoreStats {
    return {
      hits: this.#hits,
      misses: this.#misses,
      expired: this.#table.expired,
      evicted: this.#table.evicted,
    };
  }

  /**
   * Looks up a live session.
   *
   * @param token The session token.
   * @returns A copy of the session's bytes, or `undefined` when the token is
   * not held or the session has expired.
   * @throws {TypeError} (as a rejection) When `token` is not a string.
   *
   * @example Finding a session that does not exist
   * ```ts
   * import assert from "node:assert/strict";
   * import { MemStore } from "@sessions/memstore";
   *
   * using store = new MemStore();
   * assert.equal(await store.find("no-such-token"), undefined);
   * ```
   */
  find(token: string): Promise<Uint8Array | undefined> {
    return settled(() => {
      checkToken("find session", token);
      const table = this.#table;
      let slot = table.live(token, Date.now());
      if (slot >= 0 && table.ended(slot)) slot = -1; // a marker is no session
      this.#count(slot);
      return slot < 0 ? undefined : table.data(slot).slice();
    });
  }

  /**
   * Inserts or replaces a session's bytes and expiry. An expiry at or before
   * now removes the session instead.
   *
   * @param token The session token.
   * @param data The session's bytes; a copy of exactly the view's bytes is
   * stored.
   * @param expiry When the session stops being live.
   * @throws {TypeError} (as a rejection, with nothing changed) When `token`
   * is not a string, `data` is not a `Uint8Array`, or `expiry` is not a
   * valid `Date`.
   * @throws {RangeError} (as a rejection, with nothing changed) When the
   * session alone is larger than `maxBytes`.
   *
   * @example Replacing a session's bytes
   * ```ts
   * import assert from "node:assert/strict";
   * import { MemStore } from "@sessions/memstore";
   *
   * using store = new MemStore();
   * const inAMinute = new Date(Date.now() + 60_000);
   * await store.commit("token", new Uint8Array([1]), inAMinute);
   * await store.commit("token", new Uint8Array([2]), inAMinute);
   * assert.equal((await store.find("token"))?.[0], 2);
   * ```
   */
  commit(token: string, data: Uint8Array, expiry: Date): Promise<void> {
    return settled(() => {
      const action = "commit session";
      checkToken(action, token);
      checkData(action, data);
      const time = timeOf(action, expiry);
      const table = this.#table;
      const now = Date.now();
      if (time > now) table.fits(token, data); // else it is a removal
      table.set(token, new Uint8Array(data), time, false, now);
    });
  }

  /**
   * Removes a session (or marker). A token that is not held is not an
   * error.
   *
   * @param token The session token.
   * @throws {TypeError} (as a rejection) When `token` is not a string.
   *
   * @example Deleting a session
   * ```ts
   * import assert from "node:assert/strict";
   * import { MemStore } from "@sessions/memstore";
   *
   * using store = new MemStore();
   * await store.commit("token", new Uint8Array([1]), new Date(Date.now() + 60_000));
   * await store.delete("token");
   * await store.delete("token"); // no error
   * assert.equal(store.size, 0);
   * ```
   */
  delete(token: string): Promise<void> {
    return settled(() =>
      this.#table.delete(checkToken("delete session", token))
    );
  }

  /**
   * Lists every live session.
   *
   * @returns A new `Map` from token to a copy of each live session's bytes;
   * empty when there are none.
   *
   * @example Listing sessions
   * ```ts
   * import assert from "node:assert/strict";
   * import { MemStore } from "@sessions/memstore";
   *
   * using store = new MemStore();
   * const inAMinute = new Date(Date.now() + 60_000);
   * await store.commit("a", new Uint8Array([1]), inAMinute);
   * await store.commit("b", new Uint8Array([2]), inAMinute);
   * const all = await store.all();
   * assert.equal([...all.keys()].join(), "a,b");
   * ```
   */
  all(): Promise<Map<string, Uint8Array>> {
    const live = new Map<string, Uint8Array>();
    for (const [token, data] of this.#table.sessions(Date.now())) {
      live.set(token, data.slice());
    }
    return Promise.resolve(live);
  }

  /**
   * Reads a live session or marker with its version. The bytes are the
   * store's own, not a copy: never modify them.
   *
   * @param token The token.
   * @returns The entry, or `undefined`.
   * @throws {TypeError} (as a rejection) When `token` is not a string.
   *
   * @example Reading a version
   * ```ts
   * import assert from "node:assert/strict";
   * import { MemStore } from "@sessions/memstore";
   *
   * using store = new MemStore();
   * await store.commit("a", new Uint8Array([1]), new Date(Date.now() + 60_000));
   * const entry = await store.findVersioned("a");
   * assert.equal(entry?.data[0], 1);
   * assert.equal(entry?.ended, false);
   * ```
   */
  findVersioned(token: string): Promise<VersionedEntry | undefined> {
    return settled(() => this.#findVersioned(token));
  }

  #findVersioned(token: string): VersionedEntry | undefined {
    checkToken("find session", token);
    const table = this.#table;
    const slot = this.#count(table.live(token, Date.now()));
    return slot < 0 ? undefined : table.entry(slot);
  }

  /**
   * Writes entries, all or none, if each token's version is still the one
   * given. The arrays given are kept, not copied: never modify them
   * afterwards.
   *
   * @param writes The writes.
   * @returns Whether they were written.
   * @throws {TypeError} (as a rejection, with nothing changed) When a write
   * is malformed.
   * @throws {RangeError} (as a rejection, with nothing changed) When an
   * entry alone is larger than `maxBytes`.
   *
   * @example Only if absent
   * ```ts
   * import assert from "node:assert/strict";
   * import { MemStore } from "@sessions/memstore";
   *
   * using store = new MemStore();
   * const write = { token: "a", ifVersion: null, data: new Uint8Array([1]), expiry: new Date(Date.now() + 60_000) };
   * assert.equal(await store.commitVersioned([write]), true);
   * assert.equal(await store.commitVersioned([write]), false); // no longer absent
   * ```
   */
  commitVersioned(writes: readonly VersionedWrite[]): Promise<boolean> {
    return settled(() => this.#commitVersioned(writes));
  }

  #commitVersioned(writes: readonly VersionedWrite[]): boolean {
    const table = this.#table;
    const now = Date.now();
    checkWrites("commit versioned", writes, (w) => {
      if (w.expiry.getTime() > now) table.fits(w.token, w.data); // else a removal
    });
    for (const { token, ifVersion } of writes) {
      if (!table.holds(token, ifVersion, now)) return false;
    }
    for (const { token, data, expiry, ended, user } of writes) {
      table.set(token, data, expiry.getTime(), ended === true, now, user);
    }
    return true;
  }

  /**
   * Reads the live sessions listed under a user by their last versioned
   * write. O(that user's sessions). The bytes are the store's own, not
   * copies: never modify them.
   *
   * @param user The user.
   * @returns A new `Map` from token to entry; empty for an unknown user.
   * @throws {TypeError} (as a rejection) When `user` is not a non-empty
   * string.
   *
   * @example Two sessions of one user
   * ```ts
   * import assert from "node:assert/strict";
   * import { MemStore } from "@sessions/memstore";
   *
   * using store = new MemStore();
   * const expiry = new Date(Date.now() + 60_000);
   * const data = new Uint8Array([1]);
   * await store.commitVersioned([{ token: "a", ifVersion: null, data, expiry, user: "ada" }]);
   * await store.commitVersioned([{ token: "b", ifVersion: null, data, expiry, user: "ada" }]);
   * assert.equal((await store.findByUser("ada")).size, 2);
   * assert.equal((await store.findByUser("bob")).size, 0);
   * ```
   */
  findByUser(user: string): Promise<Map<string, VersionedEntry>> {
    return settled(() => {
      checkUser("find sessions by user", user);
      const table = this.#table;
      const found = new Map<string, VersionedEntry>();
      for (const [token, slot] of table.ofUser(user, Date.now())) {
        found.set(token, table.entry(slot));
      }
      return found;
    });
  }

  /** Counts a read of a slot as a hit or a miss. */
  #count(slot: number): number {
    if (slot < 0) this.#misses++;
    else this.#hits++;
    return slot;
  }

  /**
   * Stops the background sweep. Safe to call at any time and more than once;
   * the store stays usable, but expired sessions are no longer removed from
   * memory.
   *
   * @example Stopping the sweep in a test
   * ```ts
   * import { MemStore } from "@sessions/memstore";
   *
   * const store = new MemStore();
   * try {
   *   await store.commit("token", new Uint8Array([1]), new Date(Date.now() + 1000));
   * } finally {
   *   store.stopCleanup();
   * }
   * ```
   */
  stopCleanup(): void {
    this.#sweep.stop();
  }

  /**
   * Stops the background sweep, so `using store = new MemStore()` cleans up
   * at the end of the block. Same as {@linkcode MemStore.stopCleanup}.
   *
   * @example Scoping a store to a block
   * ```ts
   * import { MemStore } from "@sessions/memstore";
   *
   * {
   *   using store = new MemStore();
   *   await store.commit("token", new Uint8Array([1]), new Date(Date.now() + 1000));
   * } // the sweep stops here
   * ```
   */
  [Symbol.dispose](): void {
    this.stopCleanup();
  }
}

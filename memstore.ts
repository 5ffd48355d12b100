/**
 * {@linkcode MemStore}: an in-memory session store, the Deno counterpart of
 * SCS's `memstore`.
 *
 * @module
 */

import { describe } from "./_describe.ts";
import { fastPaths } from "./_fast_path.ts";
import { type HeapItem, MinHeap } from "./_heap.ts";
import { setUnrefInterval, setUnrefTimeout } from "./_timers.ts";
import type { IterableStore } from "./store.ts";

/** Options for {@linkcode MemStore}. */
export interface MemStoreOptions {
  /**
   * Milliseconds between sweeps of expired sessions. 0 turns the sweep off:
   * expired sessions are then never returned, but stay in memory until they
   * are committed again or deleted.
   *
   * @default {60000}
   */
  cleanupInterval?: number;
  /**
   * The most sessions held at once. A commit that would go over drops
   * expired sessions first, then evicts the live sessions closest to expiry
   * (with an idle timeout, the least recently used).
   *
   * @default {Infinity}
   */
  maxSessions?: number;
  /**
   * The most bytes held at once: every held session's data, plus one byte
   * per character of its token. Beyond it, sessions make room as for
   * `maxSessions`; a single session larger than this is refused with a
   * `RangeError`.
   *
   * @default {Infinity}
   */
  maxBytes?: number;
}

/** Counts kept by a {@linkcode MemStore} since it was created. */
export interface MemStoreStats {
  /** Finds that returned a session. */
  hits: number;
  /** Finds that returned nothing: the token was unknown or had expired. */
  misses: number;
  /** Expired sessions removed from memory (by the sweep or to make room). */
  expired: number;
  /** Live sessions evicted to stay within `maxSessions` or `maxBytes`. */
  evicted: number;
}

/** The longest delay a timer can take (2^31 - 1 ms, about 24.8 days). */
const MAX_INTERVAL = 2_147_483_647;
/** How long one slice of a sweep may hold the event loop, in milliseconds. */
const SLICE_MS = 1;

/** A held session; also its place in the expiry heap. */
class Entry implements HeapItem {
  data: Uint8Array;
  /** When the session stops being live, in ms since the epoch. */
  expiry: number;
  token: string;
  /**
   * The heap's key: at most `expiry`. A commit that extends a session only
   * moves `expiry`; the sweep re-keys the entry when the old key comes due.
   */
  key: number;
  index = -1;
  /** What the session counts against maxBytes: data and token. */
  size: number;

  constructor(token: string, data: Uint8Array, expiry: number, size: number) {
    this.data = data;
    this.expiry = expiry;
    this.token = token;
    this.key = expiry;
    this.size = size;
  }
}

function checkLimit(name: string, value: unknown): number {
  if (value === undefined) return Infinity;
  if (typeof value !== "number") {
    throw new TypeError(
      `Cannot create MemStore: ${name} must be a number, received ${
        describe(value)
      }`,
    );
  }
  if (!(value >= 1) || (value !== Infinity && !Number.isInteger(value))) {
    throw new RangeError(
      `Cannot create MemStore: ${name} must be a whole number >= 1 or Infinity, received ${value}`,
    );
  }
  return value;
}

function tokenError(action: string, token: unknown): TypeError {
  return new TypeError(
    `Cannot ${action}: token must be a string, received ${describe(token)}`,
  );
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
 * Stored bytes are copied in and out: changing an array passed to
 * {@linkcode MemStore.commit} or returned by {@linkcode MemStore.find} never
 * changes what is stored. Memory can be bounded with `maxSessions` and
 * `maxBytes`: the sessions closest to expiry make room for new ones.
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
export class MemStore implements IterableStore, Disposable {
  #sessions = new Map<string, Entry>();
  #expiries = new MinHeap<Entry>();
  #interval: ReturnType<typeof setInterval> | undefined;
  #resume: ReturnType<typeof setTimeout> | undefined;
  #maxSessions: number;
  #maxBytes: number;
  #bytes = 0;
  #hits = 0;
  #misses = 0;
  #expired = 0;
  #evicted = 0;

  /**
   * Creates a store and starts its sweep of expired sessions.
   *
   * @param options How often to sweep.
   * @throws {TypeError} When `cleanupInterval` is not a number.
   * @throws {RangeError} When `cleanupInterval` is negative, not finite, or
   * longer than a timer can wait (2147483647 ms).
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
    if (typeof options !== "object" || options === null) {
      throw new TypeError(
        `Cannot create MemStore: options must be an object, received ${
          describe(options)
        }`,
      );
    }
    const interval = options.cleanupInterval === undefined
      ? 60_000
      : options.cleanupInterval;
    if (typeof interval !== "number") {
      throw new TypeError(
        `Cannot create MemStore: cleanupInterval must be a number, received ${
          describe(interval)
        }`,
      );
    }
    if (!(interval >= 0 && interval <= MAX_INTERVAL)) {
      throw new RangeError(
        `Cannot create MemStore: cleanupInterval must be a finite number >= 0 and <= ${MAX_INTERVAL}, received ${interval}`,
      );
    }
    this.#maxSessions = checkLimit("maxSessions", options.maxSessions);
    this.#maxBytes = checkLimit("maxBytes", options.maxBytes);
    if (interval > 0) {
      this.#interval = setUnrefInterval(() => {
        if (this.#resume === undefined) this.#sweep();
      }, interval);
    }
    fastPaths.set(this, {
      peek: (token) => this.#live(token)?.data,
      read: (token) => this.#held(token)?.data,
      adopt: (token, data, expiry) => this.#store(token, data, expiry),
      drop: (token) => this.#drop(token),
    });
  }

  /** Sessions held in memory, including expired ones not yet swept. */
  get size(): number {
    return this.#sessions.size;
  }

  /**
   * Bytes held: every held session's data plus one byte per character of
   * its token, including expired sessions not yet swept.
   */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Counts of hits, misses, expired and evicted sessions since the store was
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
      expired: this.#expired,
      evicted: this.#evicted,
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
    if (typeof token !== "string") {
      return Promise.reject(tokenError("find session", token));
    }
    return Promise.resolve(this.#live(token)?.data.slice());
  }

  /** The live session of a token: live while `Date.now() < expiry`. */
  #held(token: string): Entry | undefined {
    const entry = this.#sessions.get(token);
    return entry !== undefined && entry.expiry > Date.now() ? entry : undefined;
  }

  /** The live session of a token, counting a hit or a miss. */
  #live(token: string): Entry | undefined {
    const entry = this.#held(token);
    if (entry === undefined) this.#misses++;
    else this.#hits++;
    return entry;
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
    try {
      this.#commit(token, data, expiry);
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #commit(token: string, data: Uint8Array, expiry: Date): void {
    if (typeof token !== "string") throw tokenError("commit session", token);
    if (!(data instanceof Uint8Array)) {
      throw new TypeError(
        `Cannot commit session: data must be a Uint8Array, received ${
          describe(data)
        }`,
      );
    }
    const time = expiry instanceof Date ? expiry.getTime() : NaN;
    if (Number.isNaN(time)) {
      throw new TypeError(
        `Cannot commit session: expiry must be a valid Date, received ${
          describe(expiry)
        }`,
      );
    }
    this.#store(token, new Uint8Array(data), time);
  }

  /**
   * Stores `data` as it is (the caller's copy) until `expiry`, making room
   * within the bounds first. Throws a RangeError, changing nothing, for a
   * session larger than maxBytes.
   */
  #store(token: string, data: Uint8Array, expiry: number): void {
    const entry = this.#sessions.get(token);
    if (expiry <= Date.now()) {
      if (entry !== undefined) this.#remove(entry);
      return;
    }
    const size = data.byteLength + token.length; // as maxBytes counts
    if (size > this.#maxBytes) {
      throw new RangeError(
        `Cannot commit session: it takes ${size} bytes (data and token), more than maxBytes (${this.#maxBytes})`,
      );
    }
    if (entry === undefined) {
      if (
        this.#sessions.size >= this.#maxSessions ||
        this.#bytes + size > this.#maxBytes
      ) {
        this.#makeRoom(1, size);
      }
      const created = new Entry(token, data, expiry, size);
      this.#sessions.set(token, created);
      this.#expiries.push(created);
      this.#bytes += size;
      return;
    }
    const grows = size - entry.size;
    if (this.#bytes + grows > this.#maxBytes) {
      // Make room among the others: this session is not a candidate.
      this.#expiries.remove(entry);
      this.#makeRoom(0, grows);
      entry.key = expiry;
      this.#expiries.push(entry);
    } else if (expiry < entry.key) {
      this.#expiries.rekey(entry, expiry);
    }
    entry.data = data;
    entry.expiry = expiry;
    entry.size = size;
    this.#bytes += grows;
  }

  /**
   * Removes sessions, earliest expiry first, until `sessions` more sessions
   * and `bytes` more bytes fit. Expired sessions have the earliest expiries,
   * so they go before any live one. O(log n) a session removed.
   */
  #makeRoom(sessions: number, bytes: number): void {
    const now = Date.now();
    const expiries = this.#expiries;
    while (
      this.#sessions.size + sessions > this.#maxSessions ||
      this.#bytes + bytes > this.#maxBytes
    ) {
      const entry = expiries.peek();
      if (entry === undefined) return;
      if (entry.key < entry.expiry) {
        expiries.rekey(entry, entry.expiry); // extended since it was keyed
        continue;
      }
      this.#remove(entry);
      if (entry.expiry <= now) this.#expired++;
      else this.#evicted++;
    }
  }

  /**
   * Removes a session. A token that is not held is not an error.
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
    if (typeof token !== "string") {
      return Promise.reject(tokenError("delete session", token));
    }
    this.#drop(token);
    return Promise.resolve();
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
    const now = Date.now();
    const live = new Map<string, Uint8Array>();
    for (const [token, entry] of this.#sessions) {
      if (now < entry.expiry) live.set(token, entry.data.slice());
    }
    return Promise.resolve(live);
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
    clearInterval(this.#interval);
    clearTimeout(this.#resume);
    this.#interval = undefined;
    this.#resume = undefined;
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

  #drop(token: string): void {
    const entry = this.#sessions.get(token);
    if (entry !== undefined) this.#remove(entry);
  }

  #remove(entry: Entry): void {
    this.#sessions.delete(entry.token);
    this.#expiries.remove(entry);
    this.#bytes -= entry.size;
  }

  /**
   * Removes expired sessions, earliest first, for at most SLICE_MS; when
   * more are due, yields to the event loop and goes on in a new task.
   */
  #sweep(): void {
    this.#resume = undefined;
    const now = Date.now();
    const started = performance.now();
    const expiries = this.#expiries;
    let done = 0;
    for (
      let entry = expiries.peek();
      entry !== undefined && entry.key <= now;
      entry = expiries.peek()
    ) {
      if (entry.expiry <= now) {
        this.#remove(entry);
        this.#expired++;
      } else {
        expiries.rekey(entry, entry.expiry);
      }
      if (++done % 64 === 0 && performance.now() - started >= SLICE_MS) {
        this.#resume = setUnrefTimeout(() => this.#sweep(), 0);
        return;
      }
    }
  }
}

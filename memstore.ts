/**
 * {@linkcode MemStore}: an in-memory session store, the Deno counterpart of
 * SCS's `memstore`.
 *
 * @module
 */

import { describe } from "./_describe.ts";
import { fastPaths } from "./_fast_path.ts";
import { SlotHeap } from "./_heap.ts";
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

/** The fewest sessions the store's arrays make room for. */
const MIN_CAPACITY = 64;

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
  // Sessions are kept in parallel arrays by slot, and slots 0 to size - 1
  // are always the ones in use (a removal moves the last slot into the
  // hole): the Map holds a token's slot, a small integer, so there is no
  // object per session to read or collect, and expiries and sizes sit in
  // typed arrays. The heap orders slots by expiry for the sweep and for
  // eviction; a slot's heap key is at most its expiry (an extension only
  // moves the expiry, and the slot is re-keyed when the old key comes due).
  #slots = new Map<string, number>();
  #data: Uint8Array[] = [];
  #tokens: string[] = [];
  /**
   * Two numbers a slot, side by side so that a commit reads and writes one
   * place: at 2 * slot its expiry, at 2 * slot + 1 what it counts against
   * maxBytes (data and token).
   */
  #meta = new Float64Array(2 * MIN_CAPACITY);
  #heap = new SlotHeap(MIN_CAPACITY);
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
      peek: (token) => this.#dataAt(this.#live(token)),
      read: (token) => this.#dataAt(this.#held(token)),
      adopt: (token, data, expiry) => this.#store(token, data, expiry),
      drop: (token) => this.#drop(token),
    });
  }

  /** Sessions held in memory, including expired ones not yet swept. */
  get size(): number {
    return this.#slots.size;
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
    return Promise.resolve(this.#dataAt(this.#live(token))?.slice());
  }

  /** The stored bytes in a slot, or undefined for -1. */
  #dataAt(slot: number): Uint8Array | undefined {
    return slot < 0 ? undefined : this.#data[slot];
  }

  /**
   * The slot of a token's live session, or -1: live while
   * `Date.now() < expiry`.
   */
  #held(token: string): number {
    const slot = this.#slots.get(token);
    return slot !== undefined && this.#meta[2 * slot]! > Date.now() ? slot : -1;
  }

  /** Like #held, counting a hit or a miss. */
  #live(token: string): number {
    const slot = this.#held(token);
    if (slot < 0) this.#misses++;
    else this.#hits++;
    return slot;
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
    let slot = this.#slots.get(token);
    if (expiry <= Date.now()) {
      if (slot !== undefined) this.#remove(slot);
      return;
    }
    const size = data.byteLength + token.length; // as maxBytes counts
    if (size > this.#maxBytes) {
      throw new RangeError(
        `Cannot commit session: it takes ${size} bytes (data and token), more than maxBytes (${this.#maxBytes})`,
      );
    }
    const heap = this.#heap;
    if (slot === undefined) {
      if (
        this.#slots.size >= this.#maxSessions ||
        this.#bytes + size > this.#maxBytes
      ) {
        this.#makeRoom(1, size);
      }
      slot = this.#data.length;
      if (2 * slot === this.#meta.length) this.#resize(2 * slot);
      this.#slots.set(token, slot);
      this.#data.push(data);
      this.#tokens.push(token);
      this.#meta[2 * slot] = expiry;
      this.#meta[2 * slot + 1] = size;
      heap.push(slot, expiry);
      this.#bytes += size;
      return;
    }
    let meta = this.#meta;
    const grows = size - meta[2 * slot + 1]!;
    if (this.#bytes + grows > this.#maxBytes) {
      // Make room among the others: this session is not a candidate.
      heap.remove(slot);
      this.#makeRoom(0, grows);
      slot = this.#slots.get(token)!; // removals may have moved it,
      meta = this.#meta; // and shrunk the arrays
      heap.push(slot, expiry);
    } else if (expiry < meta[2 * slot]! && expiry < heap.keyOf(slot)) {
      // (The key is at most the old expiry: a later expiry needs no look.)
      heap.rekey(slot, expiry);
    }
    this.#data[slot] = data;
    meta[2 * slot] = expiry;
    meta[2 * slot + 1] = size;
    this.#bytes += grows;
  }

  /**
   * Removes sessions, earliest expiry first, until `sessions` more sessions
   * and `bytes` more bytes fit. Expired sessions have the earliest expiries,
   * so they go before any live one. O(log n) a session removed.
   */
  #makeRoom(sessions: number, bytes: number): void {
    const now = Date.now();
    const heap = this.#heap;
    while (
      this.#slots.size + sessions > this.#maxSessions ||
      this.#bytes + bytes > this.#maxBytes
    ) {
      const slot = heap.peek();
      if (slot < 0) return;
      const expiry = this.#meta[2 * slot]!;
      if (heap.peekKey() < expiry) {
        heap.rekey(slot, expiry); // extended since it was keyed
        continue;
      }
      this.#remove(slot);
      if (expiry <= now) this.#expired++;
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
    for (const [token, slot] of this.#slots) {
      if (now < this.#meta[2 * slot]!) {
        live.set(token, this.#data[slot]!.slice());
      }
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
    const slot = this.#slots.get(token);
    if (slot !== undefined) this.#remove(slot);
  }

  /** Removes the session in `slot`, moving the last slot into its place. */
  #remove(slot: number): void {
    const data = this.#data, tokens = this.#tokens;
    this.#slots.delete(tokens[slot]!);
    this.#heap.remove(slot);
    const meta = this.#meta;
    this.#bytes -= meta[2 * slot + 1]!;
    const last = data.length - 1;
    if (slot !== last) {
      const token = tokens[last]!;
      data[slot] = data[last]!;
      tokens[slot] = token;
      meta.copyWithin(2 * slot, 2 * last, 2 * last + 2);
      this.#slots.set(token, slot);
      this.#heap.rename(last, slot);
    }
    data.pop();
    tokens.pop();
    const capacity = meta.length / 2;
    if (last < capacity / 4 && capacity > MIN_CAPACITY) {
      this.#resize(capacity / 2);
    }
  }

  /** Gives the slot arrays room for `capacity` sessions. O(capacity). */
  #resize(capacity: number): void {
    const used = this.#data.length;
    const meta = new Float64Array(2 * capacity);
    meta.set(this.#meta.subarray(0, 2 * used));
    this.#meta = meta;
    this.#heap.resize(capacity);
  }

  /**
   * Removes expired sessions, earliest first, for at most SLICE_MS; when
   * more are due, yields to the event loop and goes on in a new task.
   */
  #sweep(): void {
    this.#resume = undefined;
    const now = Date.now();
    const started = performance.now();
    const heap = this.#heap;
    let done = 0;
    for (let slot = heap.peek(); slot >= 0; slot = heap.peek()) {
      if (heap.peekKey() > now) return;
      const expiry = this.#meta[2 * slot]!;
      if (expiry <= now) {
        this.#remove(slot);
        this.#expired++;
      } else {
        heap.rekey(slot, expiry);
      }
      if (++done % 16 === 0 && performance.now() - started >= SLICE_MS) {
        this.#resume = setUnrefTimeout(() => this.#sweep(), 0);
        return;
      }
    }
  }
}

// How MemStore holds its entries: parallel arrays by slot, an expiry heap
// over the slots, and the bounds on entries and bytes.
//
// Slots 0 to count - 1 are always the ones in use (a removal moves the last
// slot into the hole): the Map holds a token's slot, a small integer, so
// there is no object per entry to read or collect, and expiries and sizes
// sit in a typed array. The heap orders slots by expiry for the sweep and
// for eviction; a slot's heap key is at most its expiry (an extension only
// moves the expiry, and the slot is re-keyed when the old key comes due).

import { SlotHeap } from "./_heap.ts";
import type { Version, VersionedEntry } from "./store.ts";

/** The fewest entries the arrays make room for. */
const MIN_CAPACITY = 64;
/** Numbers kept per slot in `#meta`: expiry, size, and 1 for a marker. */
const STRIDE = 3;

/** An entry as MemStore reads it; its expiry becomes a `Date` only when asked for. */
class SlotEntry implements VersionedEntry {
  readonly data: Uint8Array;
  /** Stored arrays are never modified, so each one names a write. */
  readonly version: Uint8Array;
  readonly ended: boolean;
  #expiry: number;
  #date: Date | undefined = undefined;

  constructor(data: Uint8Array, ended: boolean, expiry: number) {
    this.data = this.version = data;
    this.ended = ended;
    this.#expiry = expiry;
  }

  get expiry(): Date {
    return this.#date ??= new Date(this.#expiry);
  }
}

/** Entries by token: sessions, and the markers of ended sessions. */
export class SlotTable {
  #slots = new Map<string, number>();
  #data: Uint8Array[] = [];
  #tokens: string[] = [];
  /** The user each slot is listed under, if any. */
  #users: (string | undefined)[] = [];
  /** The tokens listed under each user: no user without one. */
  #byUser = new Map<string, Set<string>>();
  /**
   * Three numbers a slot, side by side, so that a write reads and writes
   * one place: its expiry, what it counts against maxBytes (data and
   * token), and whether it is a marker.
   */
  #meta = new Float64Array(STRIDE * MIN_CAPACITY);
  #heap = new SlotHeap(MIN_CAPACITY);
  #maxEntries: number;
  #maxBytes: number;
  #bytes = 0;
  #markers = 0;
  /** Expired entries removed (by the sweep or to make room). */
  expired = 0;
  /** Live entries evicted to stay within the bounds. */
  evicted = 0;

  constructor(maxEntries: number, maxBytes: number) {
    this.#maxEntries = maxEntries;
    this.#maxBytes = maxBytes;
  }

  /** Entries held, expired or not. */
  get count(): number {
    return this.#data.length;
  }

  /** Markers held, expired or not. */
  get markers(): number {
    return this.#markers;
  }

  /** Bytes held: every entry's data plus one byte per character of its token. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The slot of a token's live entry (`now < expiry`), or -1. */
  live(token: string, now: number): number {
    const slot = this.#slots.get(token);
    return slot !== undefined && this.#meta[STRIDE * slot]! > now ? slot : -1;
  }

  /** The bytes in a slot, as stored: never modify them. */
  data(slot: number): Uint8Array {
    return this.#data[slot]!;
  }

  /** The expiry of a slot. */
  expiry(slot: number): number {
    return this.#meta[STRIDE * slot]!;
  }

  /** A slot's entry, as a versioned store reads it. */
  entry(slot: number): VersionedEntry {
    return new SlotEntry(this.data(slot), this.ended(slot), this.expiry(slot));
  }

  /** Whether a token's live entry has `version` (`null`: there is none). */
  holds(token: string, version: Version | null, now: number): boolean {
    const slot = this.live(token, now);
    return version === null
      ? slot < 0
      : slot >= 0 && this.data(slot) === version;
  }

  /** Whether a slot holds a marker. */
  ended(slot: number): boolean {
    return this.#meta[STRIDE * slot + 2] === 1;
  }

  /** The tokens and bytes (as stored) of the live sessions, not markers. */
  *sessions(now: number): Generator<[string, Uint8Array]> {
    const meta = this.#meta;
    for (const [token, slot] of this.#slots) {
      if (now < meta[STRIDE * slot]! && meta[STRIDE * slot + 2] === 0) {
        yield [token, this.#data[slot]!];
      }
    }
  }

  /** What `data` would count against maxBytes; throws past it. */
  fits(token: string, data: Uint8Array): number {
    const size = data.byteLength + token.length;
    if (size > this.#maxBytes) {
      throw new RangeError(
        `Cannot commit session: it takes ${size} bytes (data and token), more than maxBytes (${this.#maxBytes})`,
      );
    }
    return size;
  }

  /**
   * Stores `data` as it is (not a copy) until `expiry`, making room within
   * the bounds first; an expiry at or before `now` removes the entry. Call
   * {@linkcode SlotTable.fits} first: this throws nothing.
   */
  set(
    token: string,
    data: Uint8Array,
    expiry: number,
    ended: boolean,
    now: number,
    user: string | undefined = undefined,
  ): void {
    let slot = this.#slots.get(token);
    if (ended) user = undefined;
    if (expiry <= now) {
      if (slot !== undefined) this.#remove(slot);
      return;
    }
    const size = data.byteLength + token.length;
    const heap = this.#heap;
    if (slot === undefined) {
      if (
        this.#data.length >= this.#maxEntries ||
        this.#bytes + size > this.#maxBytes
      ) {
        this.#makeRoom(1, size, now);
      }
      slot = this.#data.length;
      if (STRIDE * slot === this.#meta.length) this.#resize(2 * slot);
      this.#meta[STRIDE * slot + 2] = 0; // a fresh slot is no marker yet
      this.#slots.set(token, slot);
      this.#data.push(data);
      this.#tokens.push(token);
      this.#users.push(undefined);
      this.#list(slot, user);
      this.#write(slot, expiry, size, ended);
      heap.push(slot, expiry);
      this.#bytes += size;
      return;
    }
    // The version of an entry is its array: the very array written again
    // (a touch of unchanged bytes) is stored as a copy, so that every write
    // gives the token a new version.
    if (this.#data[slot] === data) data = data.slice();
    const grows = size - this.#meta[STRIDE * slot + 1]!;
    if (this.#bytes + grows > this.#maxBytes) {
      // Make room among the others: this entry is not a candidate.
      heap.remove(slot);
      this.#makeRoom(0, grows, now);
      slot = this.#slots.get(token)!; // removals may have moved it
      heap.push(slot, expiry);
    } else if (
      expiry < this.#meta[STRIDE * slot]! && expiry < heap.keyOf(slot)
    ) {
      // (The key is at most the old expiry: a later expiry needs no look.)
      heap.rekey(slot, expiry);
    }
    this.#data[slot] = data;
    if (this.#users[slot] !== user) this.#list(slot, user);
    this.#write(slot, expiry, size, ended);
    this.#bytes += grows;
  }

  /** The live sessions (not markers) listed under `user`, by token. */
  *ofUser(user: string, now: number): Generator<[string, number]> {
    for (const token of this.#byUser.get(user) ?? []) {
      const slot = this.live(token, now);
      if (slot >= 0 && !this.ended(slot)) yield [token, slot];
    }
  }

  /** Users with a listed entry. */
  get users(): number {
    return this.#byUser.size;
  }

  /** Lists a slot's token under `user` instead of its current user. */
  #list(slot: number, user: string | undefined): void {
    const token = this.#tokens[slot]!;
    const old = this.#users[slot];
    if (old !== undefined) {
      const tokens = this.#byUser.get(old)!;
      tokens.delete(token);
      if (tokens.size === 0) this.#byUser.delete(old);
    }
    this.#users[slot] = user;
    if (user === undefined) return;
    const tokens = this.#byUser.get(user);
    if (tokens === undefined) this.#byUser.set(user, new Set([token]));
    else tokens.add(token);
  }

  /** Removes a token's entry; a token not held is not an error. */
  delete(token: string): void {
    const slot = this.#slots.get(token);
    if (slot !== undefined) this.#remove(slot);
  }

  /**
   * Removes expired entries, earliest first, until none is due at `now` or
   * `enough()` says to stop (asked every 16 removals).
   *
   * @returns Whether expired entries are left.
   */
  sweep(now: number, enough: () => boolean): boolean {
    const heap = this.#heap;
    let done = 0;
    for (let slot = heap.peek(); slot >= 0; slot = heap.peek()) {
      if (heap.peekKey() > now) return false;
      const expiry = this.#meta[STRIDE * slot]!;
      if (expiry <= now) {
        this.#remove(slot);
        this.expired++;
      } else {
        heap.rekey(slot, expiry);
      }
      if (++done % 16 === 0 && enough()) return true;
    }
    return false;
  }

  /** Writes a slot's numbers, counting markers in and out. */
  #write(slot: number, expiry: number, size: number, ended: boolean): void {
    const meta = this.#meta, at = STRIDE * slot;
    this.#markers += (ended ? 1 : 0) - meta[at + 2]!;
    meta[at] = expiry;
    meta[at + 1] = size;
    meta[at + 2] = ended ? 1 : 0;
  }

  /**
   * Removes entries, earliest expiry first, until `entries` more entries
   * and `bytes` more bytes fit. Expired entries have the earliest expiries,
   * so they go before any live one. O(log n) an entry removed.
   */
  #makeRoom(entries: number, bytes: number, now: number): void {
    const heap = this.#heap;
    while (
      this.#data.length + entries > this.#maxEntries ||
      this.#bytes + bytes > this.#maxBytes
    ) {
      const slot = heap.peek();
      if (slot < 0) return;
      const expiry = this.#meta[STRIDE * slot]!;
      if (heap.peekKey() < expiry) {
        heap.rekey(slot, expiry); // extended since it was keyed
        continue;
      }
      this.#remove(slot);
      if (expiry <= now) this.expired++;
      else this.evicted++;
    }
  }

  /** Removes the entry in `slot`, moving the last slot into its place. */
  #remove(slot: number): void {
    const data = this.#data, tokens = this.#tokens, meta = this.#meta;
    const users = this.#users;
    if (users[slot] !== undefined) this.#list(slot, undefined);
    this.#slots.delete(tokens[slot]!);
    this.#heap.remove(slot);
    this.#bytes -= meta[STRIDE * slot + 1]!;
    if (meta[STRIDE * slot + 2] === 1) this.#markers--;
    const last = data.length - 1;
    if (slot !== last) {
      const token = tokens[last]!;
      data[slot] = data[last]!;
      tokens[slot] = token;
      users[slot] = users[last];
      meta.copyWithin(STRIDE * slot, STRIDE * last, STRIDE * last + STRIDE);
      this.#slots.set(token, slot);
      this.#heap.rename(last, slot);
    }
    data.pop();
    tokens.pop();
    users.pop();
    const capacity = meta.length / STRIDE;
    if (last < capacity / 4 && capacity > MIN_CAPACITY) {
      this.#resize(capacity / 2);
    }
  }

  /** Gives the arrays room for `capacity` entries. O(capacity). */
  #resize(capacity: number): void {
    const meta = new Float64Array(STRIDE * capacity);
    meta.set(this.#meta.subarray(0, STRIDE * this.#data.length));
    this.#meta = meta;
    this.#heap.resize(capacity);
  }
}

// How the session manager reaches a store: through its capabilities when it
// has them, looked for at each call, so a wrapper, a subclass or a method
// patched later is seen from the next call; a MemStore of its own,
// synchronously (_in_memory.ts). A plain Store is given compare-and-set
// within this process: writes to a token take turns, each checks what is
// stored first, and the markers of ended sessions are kept in memory.

import { jitteredBackoff, withTimeout } from "./_timers.ts";
import { hashToken } from "./_token.ts";
import { Turns } from "./_turns.ts";
import { syncOf } from "./_in_memory.ts";
import {
  isVersionedStore,
  type Store,
  type UserIndexStore,
  type Version,
  type VersionedEntry,
  type VersionedWrite,
} from "./store.ts";

/** A read entry; `expiry` is unknown for a plain store. */
export type Entry = Omit<VersionedEntry, "expiry"> & {
  expiry: Date | undefined;
};

/**
 * How many ended sessions' markers a plain store is given in memory: past
 * that, the oldest is forgotten, and reads as absent.
 */
export const PLAIN_MARKERS_KEPT = 1024;

/** The marker of an ended session of a plain store, and its version. */
interface Marker {
  data: Uint8Array;
  expiry: number;
}

/** A store call that a save needs (see {@linkcode StoreAccess.run}). */
export type Call =
  | { readonly kind: "read"; readonly key: string }
  | { readonly kind: "write"; readonly writes: VersionedWrite[] }
  | { readonly kind: "pause"; readonly ms: number }
  | { readonly kind: "hash"; readonly token: string };

/** Steps of work that yield store calls and finish with an `R`. */
export type Steps<R> = Generator<Call, R, unknown>;

/** Reads a key's live entry (`yield* read(key)`). */
export function* read(key: string): Steps<Entry | undefined> {
  return (yield { kind: "read", key }) as Entry | undefined;
}

/** Writes entries, all or none, if their versions still match. */
export function* write(writes: VersionedWrite[]): Steps<boolean> {
  return (yield { kind: "write", writes }) as boolean;
}

/** Waits `ms` milliseconds; not at all for 0. */
export function* pause(ms: number): Steps<void> {
  if (ms > 0) yield { kind: "pause", ms };
}

/** base64url(SHA-256(token)): a token's store key when tokens are hashed. */
export function* hashed(token: string): Steps<string> {
  return (yield { kind: "hash", token }) as string;
}

/** The most writes one save tries before it gives up. */
export const MAX_ATTEMPTS = 32;

/**
 * The wait before another try of a save (ms): none for the first two, then
 * the jittered backoff, so that saves of one session from several processes
 * spread out instead of colliding again.
 */
export function backoff(attempt: number): number {
  return attempt < 3 ? 0 : jitteredBackoff(attempt - 2);
}

export function tooManyConflicts(): Error {
  return new Error(
    `Cannot save session: other requests changed it ${MAX_ATTEMPTS} times while this one tried`,
  );
}

/** Whether two byte arrays hold the same bytes. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Reads and writes a store with versions, whatever it can do itself. */
export class StoreAccess {
  #store: Store;
  #timeout: number;
  /** Markers of sessions ended in a plain store, oldest first. */
  #markers = new Map<string, Marker>();
  /** The last write queued for each token of a plain store. */
  #turns = new Turns();

  /**
   * @param store The store.
   * @param timeout Milliseconds a store call that returns a promise may
   * take before it fails with a `TimeoutError`.
   */
  constructor(store: Store, timeout: number) {
    this.#store = store;
    this.#timeout = timeout;
  }

  /** Whether the store is in this process and keeps the arrays it is given. */
  get inMemory(): boolean {
    return syncOf(this.#store) !== undefined;
  }

  /**
   * Runs `steps`, performing the calls they yield: synchronously while the
   * store answers synchronously, and from the first answer that is a
   * promise on, as a promise.
   */
  run<R>(steps: Steps<R>, answer?: unknown, failure?: unknown): R | Promise<R> {
    for (;;) {
      const next = failure === undefined
        ? steps.next(answer)
        : steps.throw(failure);
      failure = undefined;
      if (next.done) return next.value;
      const result = this.#perform(next.value);
      if (result instanceof Promise) {
        return result.then(
          (value) => this.run(steps, value),
          (error) =>
            this.run(steps, undefined, error ?? new Error(String(error))),
        );
      }
      answer = result;
    }
  }

  #perform(call: Call): unknown {
    switch (call.kind) {
      case "read":
        return this.read(call.key);
      case "write":
        return this.write(call.writes);
      case "pause":
        return new Promise((resolve) => setTimeout(resolve, call.ms));
      case "hash":
        return hashToken(call.token);
    }
  }

  /** Reads a token's live entry; synchronously when the store is in memory. */
  read(key: string): Entry | undefined | Promise<Entry | undefined> {
    const store = this.#store;
    const sync = syncOf(store);
    if (sync !== undefined) return sync.findVersioned(key);
    if (isVersionedStore(store)) return this.#bounded(store.findVersioned(key));
    const marker = this.#marker(key);
    if (marker !== undefined) {
      return {
        data: marker.data,
        version: marker,
        expiry: new Date(marker.expiry),
        ended: true,
      };
    }
    return this.#bounded(store.find(key)).then((data) =>
      data === undefined
        ? undefined
        : { data, version: data, expiry: undefined, ended: false }
    );
  }

  /**
   * Writes entries, all or none, if each token's version is still the one
   * given; synchronously when the store is in memory.
   */
  write(writes: VersionedWrite[]): boolean | Promise<boolean> {
    const store = this.#store;
    const sync = syncOf(store);
    if (sync !== undefined) return sync.commitVersioned(writes);
    if (isVersionedStore(store)) {
      return this.#bounded(store.commitVersioned(writes));
    }
    const keys = writes.map((w) => w.token);
    return this.#turns.run(keys, async () => {
      for (const { token, ifVersion } of writes) {
        if (!await this.#matches(token, ifVersion)) return false;
      }
      for (const { token, data, expiry, ended } of writes) {
        this.#markers.delete(token);
        if (ended) {
          await this.#bounded(store.delete(token));
          this.#keep(token, { data, expiry: expiry.getTime() });
        } else {
          await this.#bounded(store.commit(token, data, expiry));
        }
      }
      return true;
    });
  }

  /** Whether a plain store's token still holds `version` (`null`: nothing). */
  async #matches(token: string, version: Version | null): Promise<boolean> {
    const marker = this.#marker(token);
    if (marker !== undefined) return version === marker;
    const data = await this.#bounded(this.#store.find(token));
    if (version === null) return data === undefined;
    return data !== undefined && version instanceof Uint8Array &&
      sameBytes(data, version);
  }

  /** The live sessions the store lists under a user (a UserIndexStore). */
  byUser(user: string): Promise<Map<string, VersionedEntry>> {
    return this.#bounded((this.#store as UserIndexStore).findByUser(user));
  }

  /**
   * A store call's promise, failing with a `TimeoutError` when the store
   * does not answer in time.
   */
  #bounded<T>(call: Promise<T>): Promise<T> {
    return withTimeout(this.#timeout, "the session store", () => call);
  }

  #marker(key: string): Marker | undefined {
    const marker = this.#markers.get(key);
    if (marker !== undefined && marker.expiry <= Date.now()) {
      this.#markers.delete(key);
      return undefined;
    }
    return marker;
  }

  #keep(key: string, marker: Marker): void {
    const markers = this.#markers;
    markers.set(key, marker);
    if (markers.size > PLAIN_MARKERS_KEPT) {
      markers.delete(markers.keys().next().value!);
    }
  }
}

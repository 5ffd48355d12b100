/**
 * The contract between a session manager and the place sessions are kept.
 *
 * A store holds opaque bytes under a token until an expiry time. It never
 * interprets the bytes: encoding is the session manager's job.
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

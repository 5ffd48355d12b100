// The package's shortcut to its own in-memory store: a MemStore's versioned
// methods, answered synchronously and on the arrays it keeps, for the
// manager in the same process. Not a capability of the store contract
// (store.ts): no other store can offer it, and no user sees it.

import type { Store, VersionedEntry, VersionedWrite } from "./store.ts";

/** A MemStore's `findVersioned` and `commitVersioned`, synchronously. */
export interface SyncStore {
  findVersioned(token: string): VersionedEntry | undefined;
  commitVersioned(writes: readonly VersionedWrite[]): boolean;
}

/** The key of the method by which a MemStore gives its {@linkcode SyncStore}. */
export const SYNC: unique symbol = Symbol("MemStore synchronous access");

/**
 * The synchronous access of a store: a MemStore's, as long as its
 * versioned methods are MemStore's own (a subclass or an object that
 * replaces them is reached through them, like any store); otherwise
 * `undefined`. Asked at each call, so a method replaced later is seen.
 */
export function syncOf(store: Store): SyncStore | undefined {
  const get = (store as { [SYNC]?: () => SyncStore | undefined })[SYNC];
  return typeof get === "function" ? get.call(store) : undefined;
}

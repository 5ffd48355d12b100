/**
 * A conformance kit for store authors: {@linkcode testStore} runs the
 * contract of a `Store` as test steps against any store, and the rules of a
 * `VersionedStore` when the store has them. The package's own stores pass
 * it; run it against yours.
 *
 * @example Testing a store
 * ```ts
 * import { MemStore } from "@sessions/memstore";
 * import { testStore } from "@sessions/memstore/testing";
 *
 * Deno.test("MemStore keeps the store contract", async (t) => {
 *   await testStore(t, () => new MemStore({ cleanupInterval: 0 }));
 * });
 * ```
 *
 * @module
 */

import {
  type Check,
  CONTRACT,
  FrozenClock,
  ITERABLE,
} from "./_store_checks.ts";
import { USER_INDEX } from "./_store_checks_users.ts";
import { VERSIONED } from "./_store_checks_versioned.ts";
import {
  isUserIndexStore,
  isVersionedStore,
  type IterableStore,
  type Store,
} from "./store.ts";

// The types its API names, for readers of this module alone.
export type { Store } from "./store.ts";

/** The part of `Deno.TestContext` the kit uses. */
export type StepContext = Pick<Deno.TestContext, "step">;

/** Makes a new, empty store for one step; it is disposed after the step when it is `Disposable` or `AsyncDisposable`. */
export type StoreFactory = () => Store | Promise<Store>;

/**
 * Runs the store contract against the stores `makeStore` makes, one new
 * store for each rule, as steps of `t`:
 *
 * - a session is live while `Date.now() < expiry`, for `find`, `all` and
 *   `findVersioned` alike; a commit with an expiry at or before now removes
 *   the session;
 * - bytes are isolated: changing an array given to `commit`, or one that
 *   `find` or `all` returned, changes nothing stored;
 * - `delete` of a missing token is no error; `all` lists live sessions only;
 * - a token that is not a string, data that is not a `Uint8Array` and an
 *   expiry that is not a valid `Date` are refused with a `TypeError`, and
 *   nothing changes;
 * - with `findVersioned` and `commitVersioned`: a write with a stale
 *   version changes nothing, nor does one with a version read before its
 *   entry expired; `ifVersion: null` writes only where nothing live is;
 *   every write's version is checked and writes are all or none; a version
 *   changes when the bytes do; an ended session's marker is seen by
 *   `findVersioned` only, and expires;
 * - with `findByUser` (a per-user index): a write lists its token under the
 *   user it names and under no other, in the same atomic write (a refused
 *   write lists nothing; a renewal moves the listing); markers, deletions,
 *   plain commits and expired entries are listed under no user; a user id
 *   that is not a non-empty string is a `TypeError`.
 *
 * The kit's own tests hold a store broken against each of these rules, and
 * check that the kit fails it.
 *
 * @param t The test context (or anything with its `step`).
 * @param makeStore Makes a new, empty store.
 *
 * @example A store that fails the kit
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemStore, type Store } from "@sessions/memstore";
 * import { testStore } from "@sessions/memstore/testing";
 *
 * // Reads the expiry boundary wrongly: live while now <= expiry.
 * function lateStore(): Store {
 *   const sessions = new Map<string, { data: Uint8Array; expiry: number }>();
 *   return {
 *     find: (token) => {
 *       const item = sessions.get(token);
 *       return Promise.resolve(item && Date.now() <= item.expiry ? item.data.slice() : undefined);
 *     },
 *     commit: (token, data, expiry) => {
 *       sessions.set(token, { data: data.slice(), expiry: expiry.getTime() });
 *       return Promise.resolve();
 *     },
 *     delete: (token) => (sessions.delete(token), Promise.resolve()),
 *   };
 * }
 * const failed: string[] = [];
 * await testStore({
 *   step: async (name, fn) => {
 *     try {
 *       await (fn as () => Promise<void>)();
 *     } catch {
 *       failed.push(String(name));
 *     }
 *     return true;
 *   },
 * } as Pick<Deno.TestContext, "step">, lateStore);
 * assert.ok(failed.includes("a session is live while Date.now() < expiry"));
 * ```
 */
export async function testStore(
  t: StepContext,
  makeStore: StoreFactory,
): Promise<void> {
  const run = <S extends Store>(name: string, check: Check<S>) =>
    t.step(name, async () => {
      using clock = new FrozenClock();
      const store = await makeStore() as S;
      try {
        await check(store, clock);
      } finally {
        await dispose(store);
      }
    });
  const probe = await makeStore();
  const iterable = typeof (probe as Partial<IterableStore>).all === "function";
  const versioned = isVersionedStore(probe);
  const userIndex = isUserIndexStore(probe);
  await dispose(probe);

  for (const [name, check] of Object.entries(CONTRACT)) {
    await run(name, check);
  }
  if (iterable) {
    for (const [name, check] of Object.entries(ITERABLE)) {
      await run(name, check as Check<Store>);
    }
  }
  if (versioned) {
    for (const [name, check] of Object.entries(VERSIONED)) {
      await run(name, check as Check<Store>);
    }
  }
  if (userIndex) {
    for (const [name, check] of Object.entries(USER_INDEX)) {
      await run(name, check as Check<Store>);
    }
  }
}

/** Disposes a store that is `AsyncDisposable` or `Disposable`. */
async function dispose(store: Store): Promise<void> {
  const disposable = store as Partial<AsyncDisposable & Disposable>;
  const asyncDispose = disposable[Symbol.asyncDispose];
  if (asyncDispose) await asyncDispose.call(store);
  else disposable[Symbol.dispose]?.();
}

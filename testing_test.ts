import assert from "node:assert/strict";
import { MemStore } from "./memstore.ts";
import type { Store, VersionedStore, VersionedWrite } from "./store.ts";
import { type StepContext, testStore } from "./testing.ts";

Deno.test("MemStore passes the store conformance kit", async (t) => {
  await testStore(t, () => new MemStore({ cleanupInterval: 0 }));
});

/** Runs the kit on a store; gives the names of the steps that failed. */
async function failures(makeStore: () => Store): Promise<string[]> {
  const failed: string[] = [];
  const recorder = {
    async step(name: string, fn: () => Promise<void>) {
      try {
        await fn();
      } catch {
        failed.push(name);
      }
      return true;
    },
  } as unknown as StepContext;
  await testStore(recorder, makeStore);
  return failed;
}

/** A correct store over a Map, and three ways to break it. */
function mapStore(
  broken: "none" | "late expiry" | "no copies" | "ignores versions",
): VersionedStore {
  const items = new Map<
    string,
    { data: Uint8Array; expiry: number; version: number; ended: boolean }
  >();
  let writes = 0;
  const copy = (data: Uint8Array) =>
    broken === "no copies" ? data : data.slice();
  const live = (token: string) => {
    const item = items.get(token);
    if (item === undefined) return undefined;
    const now = Date.now();
    const alive = broken === "late expiry"
      ? now <= item.expiry
      : now < item.expiry;
    return alive ? item : undefined;
  };
  const check = (token: unknown, data?: unknown, expiry?: unknown) => {
    if (typeof token !== "string") throw new TypeError("token");
    if (data !== undefined && !(data instanceof Uint8Array)) {
      throw new TypeError("data");
    }
    if (expiry !== undefined && !(expiry instanceof Date && !isNaN(+expiry))) {
      throw new TypeError("expiry");
    }
  };
  const put = (
    token: string,
    data: Uint8Array,
    expiry: Date,
    ended = false,
  ) => {
    if (expiry.getTime() <= Date.now()) items.delete(token);
    else {
      items.set(token, {
        data: copy(data),
        expiry: expiry.getTime(),
        version: ++writes,
        ended,
      });
    }
  };
  const promised =
    <A extends unknown[], R>(fn: (...args: A) => R) =>
    (...args: A): Promise<R> => {
      try {
        return Promise.resolve(fn(...args));
      } catch (error) {
        return Promise.reject(error);
      }
    };
  return {
    find: promised((token: string) => {
      check(token);
      const item = live(token);
      return item && !item.ended ? copy(item.data) : undefined;
    }),
    commit: promised((token: string, data: Uint8Array, expiry: Date) => {
      check(token, data ?? null, expiry ?? null);
      put(token, data, expiry);
    }),
    delete: promised((token: string) => {
      check(token);
      items.delete(token);
    }),
    findVersioned: promised((token: string) => {
      check(token);
      const item = live(token);
      return item && {
        data: item.data,
        version: item.version,
        expiry: new Date(item.expiry),
        ended: item.ended,
      };
    }),
    commitVersioned: promised((batch: readonly VersionedWrite[]) => {
      if (!Array.isArray(batch)) throw new TypeError("writes");
      for (const w of batch) {
        if (typeof w !== "object" || w === null) throw new TypeError("write");
        check(w.token, w.data ?? null, w.expiry ?? null);
        if (w.ifVersion === undefined) throw new TypeError("ifVersion");
      }
      if (broken !== "ignores versions") {
        for (const { token, ifVersion } of batch) {
          const item = live(token);
          if (
            ifVersion === null
              ? item !== undefined
              : item?.version !== ifVersion
          ) {
            return false;
          }
        }
      }
      for (const w of batch) put(w.token, w.data, w.expiry, w.ended);
      return true;
    }),
  };
}

Deno.test("The conformance kit passes a correct store and fails broken ones", async () => {
  assert.deepEqual(await failures(() => mapStore("none")), []);
  assert.deepEqual(await failures(() => mapStore("late expiry")), [
    "a session is live while Date.now() < expiry",
    "findVersioned reads the bytes, a version and the expiry",
    "ifVersion null writes only where nothing live is",
  ]);
  assert.deepEqual(await failures(() => mapStore("no copies")), [
    "stored bytes are isolated from the caller's arrays",
  ]);
  assert.deepEqual(await failures(() => mapStore("ignores versions")), [
    "a write with a stale version changes nothing",
    "ifVersion null writes only where nothing live is",
    "writes are all or none",
    "an ended session's marker is seen by findVersioned only, and stays",
  ]);
});

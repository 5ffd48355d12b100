import assert from "node:assert/strict";
import { MemStore } from "./memstore.ts";
import { CONTRACT, ITERABLE } from "./_store_checks.ts";
import { USER_INDEX } from "./_store_checks_users.ts";
import { VERSIONED } from "./_store_checks_versioned.ts";
import type {
  IterableStore,
  Store,
  UserIndexStore,
  VersionedEntry,
  VersionedWrite,
} from "./store.ts";
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

/** Ways to break a store, each against one rule of the kit. */
const FLAWS = {
  "never replaces": "find returns what commit stored, and commit replaces it",
  "late expiry": "a session is live while Date.now() < expiry",
  "ignores past commits":
    "a commit with an expiry at or before now removes the session",
  "no copies": "stored bytes are isolated from the caller's arrays",
  "delete fails on a missing token":
    "delete removes a session; a missing token is no error",
  "no argument checks":
    "bad arguments are refused with a TypeError, and nothing changes",
  "all lists expired": "all() lists the live sessions only, as copies",
  "wrong expiry read":
    "findVersioned reads the bytes, a version and the expiry",
  "ignores versions": "a write with a stale version changes nothing",
  "null overwrites": "ifVersion null writes only where nothing live is",
  "partial writes": "writes are all or none",
  "find sees markers":
    "an ended session's marker is seen by findVersioned only, and stays",
  "revives expired":
    "a version read before its entry expired no longer matches",
  "checks only the last write":
    "every write's ifVersion is checked, not only the last one's",
  "markers never expire": "an ended session's marker expires",
  "versioned ignores past writes":
    "a versioned write with an expiry at or before now removes the entry",
  "no write checks":
    "bad versioned writes are refused with a TypeError, and nothing changes",
  "lists expired sessions":
    "findByUser lists the live sessions of the user their write named",
  "keeps old users": "a write moves its token to the user it names, or to none",
  "lists markers":
    "a marker, a deletion or a past expiry lists the token no more",
  "lists refused writes":
    "a write refused for its versions changes no list; a renewal moves the listing atomically",
  "no user checks":
    "a bad user is refused with a TypeError, and nothing changes",
} as const;
type Flaw = keyof typeof FLAWS;

interface Item {
  data: Uint8Array;
  expiry: number;
  version: number;
  ended: boolean;
}

/** A correct in-memory store over a Map, or one with `flaw`. */
function mapStore(flaw: Flaw | "none"): UserIndexStore & IterableStore {
  const items = new Map<string, Item>();
  /** The tokens listed under each user. */
  const index = new Map<string, Set<string>>();
  const list = (token: string, user: string | undefined) => {
    if (flaw !== "keeps old users") {
      for (const tokens of index.values()) tokens.delete(token);
    }
    if (user === undefined) return;
    const tokens = index.get(user) ?? new Set();
    index.set(user, tokens.add(token));
  };
  const checkUser = (user: unknown) => {
    if (flaw === "no user checks") return;
    if (typeof user !== "string" || user === "") throw new TypeError("user");
  };
  let writes = 0;
  const copy = (data: Uint8Array) => flaw === "no copies" ? data : data.slice();
  const live = (token: string) => {
    const item = items.get(token);
    if (item === undefined) return undefined;
    if (item.ended && flaw === "markers never expire") return item;
    const now = Date.now();
    const late = flaw === "late expiry";
    return (late ? now <= item.expiry : now < item.expiry) ? item : undefined;
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
  const checked = flaw === "no argument checks" ? () => {} : check;
  const put = (
    token: string,
    data: Uint8Array,
    expiry: Date,
    ended = false,
    user?: string,
  ) => {
    if (!ended || flaw !== "lists markers") {
      list(token, ended ? undefined : user);
    }
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
  const matches = (token: string, ifVersion: unknown) => {
    if (ifVersion === null) {
      return flaw === "null overwrites" || live(token) === undefined;
    }
    const item = flaw === "revives expired" ? items.get(token) : live(token);
    return item?.version === ifVersion;
  };
  const commitVersioned = (batch: readonly VersionedWrite[]) => {
    if (flaw !== "no write checks") {
      if (!Array.isArray(batch)) throw new TypeError("writes");
      for (const w of batch) {
        if (typeof w !== "object" || w === null) throw new TypeError("write");
        check(w.token, w.data ?? null, w.expiry ?? null);
        if (w.ifVersion === undefined) throw new TypeError("ifVersion");
        if (w.user !== undefined) checkUser(w.user);
      }
    }
    if (flaw === "lists refused writes") {
      for (const w of batch) if (w.user !== undefined) list(w.token, w.user);
    }
    const ignores = flaw === "ignores versions";
    const checkedWrites = flaw === "checks only the last write"
      ? batch.slice(-1)
      : batch;
    for (const w of batch) {
      const ok = ignores || !checkedWrites.includes(w) ||
        matches(w.token, w.ifVersion);
      if (!ok) return false;
      if (flaw === "partial writes") {
        put(w.token, w.data, w.expiry, w.ended, w.user);
      }
    }
    if (flaw === "partial writes") return true;
    for (const w of batch) {
      if (
        flaw === "versioned ignores past writes" &&
        w.expiry.getTime() <= Date.now()
      ) continue;
      put(w.token, w.data, w.expiry, w.ended, w.user);
    }
    return true;
  };
  const findVersioned = (token: string) => {
    check(token);
    const item = live(token);
    return item && {
      data: item.data,
      version: item.version,
      expiry: new Date(item.expiry + (flaw === "wrong expiry read" ? 1 : 0)),
      ended: item.ended,
    };
  };
  return {
    find: promised((token: string) => {
      checked(token);
      const item = live(token);
      return item && (!item.ended || flaw === "find sees markers")
        ? copy(item.data)
        : undefined;
    }),
    commit: promised((token: string, data: Uint8Array, expiry: Date) => {
      checked(token, data ?? null, expiry ?? null);
      if (flaw === "ignores past commits" && expiry.getTime() <= Date.now()) {
        return;
      }
      if (flaw === "never replaces" && live(token) !== undefined) return;
      put(token, data, expiry);
    }),
    delete: promised((token: string) => {
      checked(token);
      list(token, undefined);
      if (flaw === "delete fails on a missing token" && !items.has(token)) {
        throw new Error("no such session");
      }
      items.delete(token);
    }),
    all: promised(() => {
      const all = new Map<string, Uint8Array>();
      for (const [token, item] of items) {
        const shown = flaw === "all lists expired" || live(token) !== undefined;
        if (shown && !item.ended) all.set(token, copy(item.data));
      }
      return all;
    }),
    findVersioned: promised((token: string) => findVersioned(token)),
    commitVersioned: promised((batch: readonly VersionedWrite[]) =>
      commitVersioned(batch)
    ),
    findByUser: promised((user: string) => {
      checkUser(user);
      const found = new Map<string, VersionedEntry>();
      for (const token of index.get(user) ?? []) {
        const item = flaw === "lists expired sessions"
          ? items.get(token)
          : live(token);
        if (item !== undefined) {
          found.set(
            token,
            findVersioned(token) ?? {
              data: item.data,
              version: item.version,
              expiry: new Date(item.expiry),
              ended: item.ended,
            },
          );
        }
      }
      return found;
    }),
  };
}

/** `fn`'s result as a promise: a throw becomes a rejection. */
function promised<A extends unknown[], R>(fn: (...args: A) => R) {
  return (...args: A): Promise<R> => {
    try {
      return Promise.resolve(fn(...args));
    } catch (error) {
      return Promise.reject(error);
    }
  };
}

Deno.test("The conformance kit passes a correct store", async () => {
  assert.deepEqual(await failures(() => mapStore("none")), []);
});

Deno.test("The conformance kit fails a store that breaks any one of its rules", async (t) => {
  for (const [flaw, rule] of Object.entries(FLAWS) as [Flaw, string][]) {
    await t.step(flaw, async () => {
      const failed = await failures(() => mapStore(flaw));
      assert.ok(failed.includes(rule), `${rule}: failed only ${failed}`);
    });
  }
});

Deno.test("Every rule of the conformance kit has a broken store that fails it", () => {
  const rules = [CONTRACT, ITERABLE, VERSIONED, USER_INDEX].flatMap((checks) =>
    Object.keys(checks)
  );
  const covered = new Set<string>(Object.values(FLAWS));
  assert.deepEqual(rules.filter((rule) => !covered.has(rule)), []);
});

// Which of a store's methods the session manager uses: its capabilities,
// looked for at each call.
import assert from "node:assert/strict";
import { client, TestStore, tokenOf } from "./_test_helpers.ts";
import { SessionManager } from "./manager.ts";
import { MemStore } from "./memstore.ts";
import type { Session } from "./session.ts";
import {
  isInMemoryStore,
  isVersionedStore,
  type Store,
  type VersionedEntry,
  type VersionedWrite,
} from "./store.ts";

type Values = { n: number };

/** Counts visits: a read and a write a request. */
function app(store: Store) {
  const sessions = new SessionManager<Values>({ store });
  return client(sessions.loadAndSave((_request, session: Session<Values>) => {
    session.put("n", (session.get("n") ?? 0) + 1);
    return new Response(String(session.get("n")));
  }));
}

/** Names of the methods called on a store, in order. */
function spied<S extends object>(store: S, names: string[]): string[] {
  const calls: string[] = [];
  for (const name of names) {
    const method = (store as Record<string, unknown>)[name];
    if (typeof method !== "function") continue;
    (store as Record<string, unknown>)[name] = (...args: unknown[]) => {
      calls.push(name);
      return method.apply(store, args);
    };
  }
  return calls;
}

const METHODS = [
  "find",
  "commit",
  "delete",
  "findVersioned",
  "commitVersioned",
  "findVersionedSync",
  "commitVersionedSync",
];

Deno.test("isVersionedStore() and isInMemoryStore() look at the methods a store has now", () => {
  using store = new MemStore({ cleanupInterval: 0 });
  assert.equal(isVersionedStore(store), true);
  assert.equal(isInMemoryStore(store), true);
  using versioned = new TestStore({ capabilities: "versioned" });
  assert.deepEqual([isVersionedStore(versioned), isInMemoryStore(versioned)], [
    true,
    false,
  ]);
  using plain = new TestStore({ capabilities: "plain" });
  assert.deepEqual([isVersionedStore(plain), isInMemoryStore(plain)], [
    false,
    false,
  ]);
  // Half a capability is none.
  const half = Object.assign(new TestStore({ capabilities: "plain" }), {
    findVersioned: () => Promise.resolve(undefined),
  });
  assert.equal(isVersionedStore(half), false);
  half[Symbol.dispose]();
});

Deno.test("SessionManager reads a MemStore at once and writes it with compare-and-set", async () => {
  using store = new MemStore({ cleanupInterval: 0 });
  const calls = spied(store, METHODS);
  const browser = app(store);
  await browser.get("/");
  assert.equal(await (await browser.get("/")).text(), "2");
  assert.deepEqual(calls, [
    "commitVersionedSync", // the first visit: a new session, nothing to read
    "findVersionedSync",
    "commitVersionedSync",
  ]);
});

Deno.test("A subclass of MemStore keeps its capabilities: the manager calls what it overrides of them", async () => {
  const seen: string[] = [];
  class Audited extends MemStore {
    override find(token: string) {
      seen.push("find"); // not what the manager reads with
      return super.find(token);
    }
    override findVersionedSync(token: string): VersionedEntry | undefined {
      seen.push("findVersionedSync");
      return super.findVersionedSync(token);
    }
  }
  using store = new Audited({ cleanupInterval: 0 });
  const browser = app(store);
  await browser.get("/");
  assert.equal(await (await browser.get("/")).text(), "2");
  assert.deepEqual(seen, ["findVersionedSync"]);
});

Deno.test("A wrapper keeps the capabilities it forwards, and no others", async (t) => {
  await t.step("forwarding only Store's methods: the plain path", async () => {
    using inner = new MemStore({ cleanupInterval: 0 });
    const wrapper: Store = {
      find: (token) => inner.find(token),
      commit: (token, data, expiry) => inner.commit(token, data, expiry),
      delete: (token) => inner.delete(token),
    };
    const calls = spied(wrapper, METHODS);
    const browser = app(wrapper);
    await browser.get("/");
    assert.equal(await (await browser.get("/")).text(), "2");
    // The second visit: the load's read, then the save's check and write.
    assert.deepEqual(calls.slice(-3), ["find", "find", "commit"]);
    assert.equal(inner.stats().hits, 2);
  });
  await t.step("forwarding the versioned methods too", async () => {
    using inner = new MemStore({ cleanupInterval: 0 });
    const wrapper = {
      find: (token: string) => inner.find(token),
      commit: (token: string, data: Uint8Array, expiry: Date) =>
        inner.commit(token, data, expiry),
      delete: (token: string) => inner.delete(token),
      findVersioned: (token: string) => inner.findVersioned(token),
      commitVersioned: (writes: readonly VersionedWrite[]) =>
        inner.commitVersioned(writes),
    };
    const calls = spied(wrapper, METHODS);
    const browser = app(wrapper);
    await browser.get("/");
    assert.equal(await (await browser.get("/")).text(), "2");
    assert.deepEqual(calls.slice(-2), ["findVersioned", "commitVersioned"]);
  });
  await t.step("a Proxy that binds methods to the store", async () => {
    using inner = new MemStore({ cleanupInterval: 0 });
    const proxy = new Proxy(inner, {
      get(target, name) {
        const value = Reflect.get(target, name);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const browser = app(proxy);
    await browser.get("/");
    assert.equal(await (await browser.get("/")).text(), "2");
    assert.equal(inner.size, 1);
  });
});

Deno.test("A capability patched in or out later is used or not from the next call", async () => {
  using store = new MemStore({ cleanupInterval: 0 });
  const browser = app(store);
  await browser.get("/");
  // A spy patched in after the manager was made sees the next write.
  const writes: VersionedWrite[][] = [];
  const commitVersionedSync = store.commitVersionedSync.bind(store);
  store.commitVersionedSync = (batch) => {
    writes.push([...batch]);
    return commitVersionedSync(batch);
  };
  assert.equal(await (await browser.get("/")).text(), "2");
  assert.equal(writes.length, 1);
  assert.equal(writes[0]![0]!.token, tokenOf(browser.cookie));
  // Without the synchronous methods, the manager uses the promised ones.
  let promised = 0;
  const findVersioned = store.findVersioned.bind(store);
  const commitVersioned = store.commitVersioned.bind(store);
  Object.assign(store, {
    findVersionedSync: undefined,
    findVersioned: (token: string) => (promised++, findVersioned(token)),
    commitVersioned: (batch: VersionedWrite[]) => (
      promised++, commitVersioned(batch)
    ),
  });
  assert.equal(isInMemoryStore(store), false);
  assert.equal(await (await browser.get("/")).text(), "3");
  assert.equal(promised, 2);
});

Deno.test("MemStore.stats() counts a request's read once, whichever method the manager uses", async () => {
  for (const capabilities of ["in-memory", "versioned", "plain"] as const) {
    using store = new TestStore({ capabilities });
    const browser = app(store);
    await browser.get("/");
    const before = store.inner.stats();
    const sessions = new SessionManager<Values>({ store });
    await sessions.load(tokenOf(browser.cookie)!);
    const after = store.inner.stats();
    assert.equal(after.hits, before.hits + 1, capabilities);
    assert.equal(after.misses, before.misses, capabilities);
  }
});

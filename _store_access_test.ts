// Which of a store's methods the session manager uses: its capabilities,
// looked for at each call.
import assert from "node:assert/strict";
import { client, TestStore, tokenOf } from "./_test_helpers.ts";
import { SessionManager } from "./manager.ts";
import { MemStore } from "./memstore.ts";
import type { Session } from "./session.ts";
import { syncOf } from "./_in_memory.ts";
import { isVersionedStore, type Store, type VersionedWrite } from "./store.ts";

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
    (store as Record<string, unknown>)[name] = function (
      this: unknown,
      ...args: unknown[]
    ) {
      calls.push(name);
      return method.apply(this, args);
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
];

Deno.test("isVersionedStore() looks at the methods a store has now; only a MemStore is reached synchronously", () => {
  using store = new MemStore({ cleanupInterval: 0 });
  assert.equal(isVersionedStore(store), true);
  assert.notEqual(syncOf(store), undefined);
  using versioned = new TestStore({ capabilities: "versioned" });
  assert.deepEqual([isVersionedStore(versioned), syncOf(versioned)], [
    true,
    undefined,
  ]);
  using plain = new TestStore({ capabilities: "plain" });
  assert.deepEqual([isVersionedStore(plain), syncOf(plain)], [
    false,
    undefined,
  ]);
  // Half a capability is none.
  const half = Object.assign(new TestStore({ capabilities: "plain" }), {
    findVersioned: () => Promise.resolve(undefined),
  });
  assert.equal(isVersionedStore(half), false);
  half[Symbol.dispose]();
});

Deno.test("SessionManager reads and writes a MemStore synchronously, through none of its public methods", async () => {
  using store = new MemStore({ cleanupInterval: 0 });
  // Spies on the class's own methods, so the instance keeps them as its own.
  const own = MemStore.prototype as unknown as Record<string, unknown>;
  const saved = Object.fromEntries(METHODS.map((name) => [name, own[name]]));
  const calls = spied(own, METHODS);
  try {
    const browser = app(store);
    await browser.get("/");
    assert.equal(await (await browser.get("/")).text(), "2");
  } finally {
    Object.assign(own, saved);
  }
  assert.deepEqual(calls, []);
  assert.deepEqual(store.stats().hits, 1, "the second visit read it");
});

Deno.test("A subclass of MemStore that overrides a versioned method is called through it", async () => {
  const seen: string[] = [];
  class Audited extends MemStore {
    override find(token: string) {
      seen.push("find"); // not what the manager reads with
      return super.find(token);
    }
    override findVersioned(token: string) {
      seen.push("findVersioned");
      return super.findVersioned(token);
    }
  }
  using store = new Audited({ cleanupInterval: 0 });
  const browser = app(store);
  await browser.get("/");
  assert.equal(await (await browser.get("/")).text(), "2");
  assert.deepEqual(seen, ["findVersioned"]);
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
  // A spy patched in after the manager was made sees the next write: the
  // synchronous path is for a MemStore's own methods only.
  const writes: VersionedWrite[][] = [];
  const commitVersioned = store.commitVersioned.bind(store);
  store.commitVersioned = (batch) => {
    writes.push([...batch]);
    return commitVersioned(batch);
  };
  assert.equal(syncOf(store), undefined);
  assert.equal(await (await browser.get("/")).text(), "2");
  assert.equal(writes.length, 1);
  assert.equal(writes[0]![0]!.token, tokenOf(browser.cookie));
  // Without the versioned methods, the manager uses the plain ones.
  let plain = 0;
  const find = store.find.bind(store);
  Object.assign(store, {
    findVersioned: undefined,
    find: (token: string) => (plain++, find(token)),
  });
  assert.equal(isVersionedStore(store), false);
  assert.equal(await (await browser.get("/")).text(), "3");
  assert.ok(plain > 0);
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

import assert from "node:assert/strict";
import { bytes, fakeTime, inMs, text } from "./_test_helpers.ts";
import { MemStore } from "./memstore.ts";

Deno.test("MemStore with maxSessions evicts the sessions closest to expiry", async (t) => {
  using clock = fakeTime();
  await t.step(
    "expired sessions go first, then the earliest expiry",
    async () => {
      using store = new MemStore({ cleanupInterval: 0, maxSessions: 3 });
      await store.commit("expired", bytes("x"), inMs(10));
      await store.commit("late", bytes("x"), inMs(30_000));
      await store.commit("early", bytes("x"), inMs(10_000));
      clock.tick(10);
      await store.commit("new-1", bytes("x"), inMs(20_000));
      assert.deepEqual([...(await store.all()).keys()].sort(), [
        "early",
        "late",
        "new-1",
      ]);
      assert.deepEqual(store.stats(), {
        hits: 0,
        misses: 0,
        expired: 1,
        evicted: 0,
      });
      await store.commit("new-2", bytes("x"), inMs(20_000));
      assert.deepEqual([...(await store.all()).keys()].sort(), [
        "late",
        "new-1",
        "new-2",
      ]);
      assert.equal(store.stats().evicted, 1);
      assert.equal(store.size, 3);
    },
  );
  await t.step("with an idle timeout, the least recently used", async () => {
    using store = new MemStore({ cleanupInterval: 0, maxSessions: 2 });
    const idle = 60_000;
    await store.commit("a", bytes("a"), inMs(idle));
    clock.tick(1);
    await store.commit("b", bytes("b"), inMs(idle));
    clock.tick(1);
    await store.commit("a", bytes("a"), inMs(idle)); // "a" is used again
    clock.tick(1);
    await store.commit("c", bytes("c"), inMs(idle));
    assert.deepEqual([...(await store.all()).keys()].sort(), ["a", "c"]);
  });
  await t.step("updating a held session evicts nothing", async () => {
    using store = new MemStore({ cleanupInterval: 0, maxSessions: 2 });
    await store.commit("a", bytes("a"), inMs(1000));
    await store.commit("b", bytes("b"), inMs(2000));
    await store.commit("a", bytes("a2"), inMs(3000));
    assert.equal(store.size, 2);
    assert.equal(store.stats().evicted, 0);
  });
});

Deno.test("MemStore with maxBytes counts data and token, and makes room", async () => {
  using clock = fakeTime();
  using store = new MemStore({ cleanupInterval: 0, maxBytes: 30 });
  await store.commit("aaaa", new Uint8Array(6), inMs(1000)); // 10 bytes
  await store.commit("bbbb", new Uint8Array(6), inMs(2000)); // 10 bytes
  assert.equal(store.bytes, 20);
  await store.commit("cccc", new Uint8Array(11), inMs(3000)); // 15: evicts aaaa
  assert.deepEqual([...(await store.all()).keys()].sort(), ["bbbb", "cccc"]);
  assert.equal(store.bytes, 25);
  // Growing a session evicts others, never itself.
  await store.commit("bbbb", new Uint8Array(16), inMs(500));
  assert.deepEqual([...(await store.all()).keys()], ["bbbb"]);
  assert.equal(store.bytes, 20);
  await store.delete("bbbb");
  assert.equal(store.bytes, 0);
  clock.tick(0);
});

Deno.test("MemStore with maxBytes grows a session among many, evicting most", async () => {
  using _clock = fakeTime();
  using store = new MemStore({ cleanupInterval: 0, maxBytes: 2000 });
  for (let i = 0; i < 300; i++) {
    await store.commit(`s${1000 + i}`, new Uint8Array(1), inMs(1000 + i));
  }
  assert.equal(store.bytes, 300 * 6);
  // The first session grows to 1,505 bytes: all but the last 82 others go.
  await store.commit("s1000", new Uint8Array(1500), inMs(5000));
  assert.equal(store.size, 83);
  assert.equal(store.bytes, 1505 + 82 * 6);
  assert.equal((await store.find("s1000"))?.length, 1500);
  await store.delete("s1000");
  assert.equal(store.bytes, 82 * 6);
  const all = await store.all();
  assert.deepEqual(
    [...all.keys()].sort(),
    Array.from({ length: 82 }, (_, i) => `s${1218 + i}`),
  );
});

Deno.test("MemStore refuses a session larger than maxBytes and changes nothing", async () => {
  using _clock = fakeTime();
  using store = new MemStore({ cleanupInterval: 0, maxBytes: 20 });
  await store.commit("kept", bytes("data"), inMs(1000));
  await assert.rejects(store.commit("huge", new Uint8Array(17), inMs(1000)), {
    name: "RangeError",
    message:
      "Cannot commit session: it takes 21 bytes (data and token), more than maxBytes (20)",
  });
  await assert.rejects(
    store.commit("kept", new Uint8Array(17), inMs(1000)),
    RangeError,
  );
  assert.equal(text(await store.find("kept")), "data");
  assert.equal(store.bytes, 8);
});

Deno.test("MemStore removes a session committed with an expiry at or before now, whatever its size", async () => {
  using _clock = fakeTime();
  using store = new MemStore({ cleanupInterval: 0, maxBytes: 20 });
  await store.commit("a", bytes("data"), inMs(1000));
  await store.commit("a", new Uint8Array(100), inMs(0));
  assert.equal(await store.find("a"), undefined);
  await store.commit("b", bytes("data"), inMs(1000));
  const read = (await store.findVersioned("b"))!;
  const removal = {
    token: "b",
    ifVersion: read.version,
    data: new Uint8Array(100),
    expiry: inMs(-1),
  };
  assert.equal(await store.commitVersioned([removal]), true);
  assert.equal(await store.findVersioned("b"), undefined);
  assert.equal(store.bytes, 0);
});

Deno.test("MemStore.stats() counts hits, misses, expired and evicted", async () => {
  using clock = fakeTime();
  using store = new MemStore({ cleanupInterval: 100, maxSessions: 2 });
  await store.commit("a", bytes("a"), inMs(50));
  await store.commit("b", bytes("b"), inMs(5000));
  await store.find("a");
  await store.find("missing");
  clock.tick(50);
  await store.find("a"); // expired: a miss
  clock.tick(50); // the sweep removes "a"
  await store.commit("c", bytes("c"), inMs(6000));
  await store.commit("d", bytes("d"), inMs(7000)); // evicts "b"
  const stats = store.stats();
  assert.deepEqual(stats, { hits: 1, misses: 2, expired: 1, evicted: 1 });
  stats.hits = 100;
  assert.equal(store.stats().hits, 1, "a copy");
});

Deno.test("new MemStore() checks maxSessions and maxBytes", () => {
  for (const name of ["maxSessions", "maxBytes"]) {
    assert.throws(() => new MemStore({ [name]: "10" }), {
      name: "TypeError",
      message:
        `Cannot create MemStore: ${name} must be a number, received "10"`,
    });
    for (const value of [0, -1, 1.5, NaN]) {
      assert.throws(() => new MemStore({ [name]: value }), {
        name: "RangeError",
        message:
          `Cannot create MemStore: ${name} must be a whole number >= 1 or Infinity, received ${value}`,
      });
    }
    using _ok = new MemStore({ [name]: Infinity, cleanupInterval: 0 });
  }
});

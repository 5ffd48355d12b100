// MemStore's synchronous access (_in_memory.ts), which the manager uses in
// the same process: the rules of a versioned store, synchronously.
import assert from "node:assert/strict";
import { bytes, fakeTime, inMs, text } from "./_test_helpers.ts";
import { syncOf } from "./_in_memory.ts";
import { MemStore } from "./memstore.ts";

Deno.test("MemStore's synchronous access agrees with findVersioned and commitVersioned", async () => {
  using _clock = fakeTime();
  using store = new MemStore({ cleanupInterval: 0 });
  const sync = syncOf(store)!;
  const expiry = inMs(1000);
  const write = { token: "a", ifVersion: null, data: bytes("1"), expiry };
  assert.equal(sync.commitVersioned([write]), true);
  const read = sync.findVersioned("a")!;
  const promised = (await store.findVersioned("a"))!;
  assert.equal(text(read.data), text(promised.data));
  assert.equal(read.version, promised.version);
  assert.equal(sync.findVersioned("none"), undefined);
});

Deno.test("MemStore's synchronous commitVersioned writes only over the version given", async () => {
  using _clock = fakeTime();
  using store = new MemStore({ cleanupInterval: 0 });
  const sync = syncOf(store)!;
  const expiry = inMs(1000);
  await store.commit("a", bytes("first"), expiry);
  const read = sync.findVersioned("a")!;
  const write = (data: string, ifVersion: unknown) => [
    {
      token: "a",
      ifVersion: ifVersion as string | null,
      data: bytes(data),
      expiry,
    },
  ];
  assert.equal(sync.commitVersioned(write("mine", read.version)), true);
  assert.equal(sync.commitVersioned(write("lost", read.version)), false);
  assert.equal(sync.commitVersioned(write("lost", null)), false);
  assert.equal(text(await store.find("a")), "mine");
});

Deno.test("MemStore's synchronous findVersioned hides an expired entry", async () => {
  using clock = fakeTime();
  using store = new MemStore({ cleanupInterval: 0 });
  const sync = syncOf(store)!;
  await store.commit("a", bytes("x"), inMs(1000));
  clock.tick(999);
  assert.equal(text(sync.findVersioned("a")?.data), "x");
  clock.tick(1);
  assert.equal(sync.findVersioned("a"), undefined);
});

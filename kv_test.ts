import assert from "node:assert/strict";
import { KV_MAX_SESSION_BYTES, KvStore } from "./kv.ts";
import { isVersionedStore } from "./store.ts";
import { testStore } from "./testing.ts";

/** A KvStore that owns its KV, so the kit's disposal closes it. */
async function ownedStore(path = ":memory:") {
  const kv = await Deno.openKv(path);
  return Object.assign(new KvStore(kv), {
    kv,
    [Symbol.dispose]: () => kv.close(),
  });
}

const inAMinute = () => new Date(Date.now() + 60_000);
const filled = (size: number, seed = 1) =>
  Uint8Array.from({ length: size }, (_, i) => (i * 31 + seed) % 251);

Deno.test("KvStore passes the store conformance kit", async (t) => {
  await testStore(t, () => ownedStore());
});

Deno.test("KvStore keeps sessions up to 256 KiB whole, in chunks, and refuses larger ones", async () => {
  using store = await ownedStore();
  for (
    const size of [
      0,
      10,
      63 * 1024,
      63 * 1024 + 1,
      200_000,
      KV_MAX_SESSION_BYTES,
    ]
  ) {
    const data = filled(size);
    await store.commit("big", data, inAMinute());
    assert.deepEqual(await store.find("big"), data, `${size} bytes`);
  }
  await assert.rejects(
    store.commit("big", filled(KV_MAX_SESSION_BYTES + 1), inAMinute()),
    {
      name: "RangeError",
      message:
        "Cannot commit session: it takes 262145 bytes, more than a KvStore holds (262144 bytes, 256 KiB)",
    },
  );
  assert.equal(
    (await store.find("big"))?.length,
    KV_MAX_SESSION_BYTES,
    "unchanged",
  );
  // A smaller session leaves no chunks of the larger one behind.
  await store.commit("big", filled(10), inAMinute());
  const keys = [];
  for await (const { key } of store.kv.list({ prefix: ["sessions"] })) {
    keys.push(key);
  }
  assert.deepEqual(keys, [["sessions", "big"]]);
  const all = await store.all();
  assert.deepEqual(all.get("big"), filled(10));
});

Deno.test("KvStore never returns half of a session", async () => {
  using store = await ownedStore();
  await store.commit("big", filled(200_000), inAMinute());
  // A chunk from another write: the head no longer matches its chunks.
  const chunk = await store.kv.get<{ id: string; data: Uint8Array }>([
    "sessions",
    "big",
    1,
  ]);
  await store.kv.set(["sessions", "big", 1], { ...chunk.value!, id: "other" });
  await assert.rejects(store.find("big"), /kept changing while read/);
});

Deno.test("KvStore checks the expiry itself: KV's expiry is eventual", async () => {
  using store = await ownedStore();
  const expiry = new Date(Date.now() + 50);
  await store.commit("a", filled(5), expiry);
  const read = (await store.findVersioned("a"))!;
  await new Promise((resolve) => setTimeout(resolve, 60));
  // KV may still hold the entry; the store does not show it, and a version
  // read before the expiry brings nothing back.
  assert.equal(await store.find("a"), undefined);
  assert.equal(await store.findVersioned("a"), undefined);
  const back = [{
    token: "a",
    ifVersion: read.version,
    data: filled(5),
    expiry: inAMinute(),
  }];
  assert.equal(await store.commitVersioned(back), false);
  assert.equal(await store.find("a"), undefined);
  assert.equal(store.stats().conflicts, 1);
});

Deno.test("Two processes on one KV file write with compare-and-set, and neither dies of a locked database", async () => {
  const path = await Deno.makeTempFile({ suffix: ".kv" });
  try {
    const increments = 150;
    const run = () =>
      new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--unstable-kv",
          "--allow-read",
          "--allow-write",
          new URL("./testdata/kv_counter.ts", import.meta.url).pathname,
          path,
          String(increments),
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
    const results = await Promise.all([run(), run()]);
    for (const { code, stderr } of results) {
      assert.equal(code, 0, new TextDecoder().decode(stderr));
    }
    using store = await ownedStore(path);
    const count = new TextDecoder().decode(await store.find("counter"));
    assert.equal(count, String(2 * increments), "every increment landed");
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("new KvStore() checks its KV and options", async () => {
  assert.throws(() => new KvStore({} as Deno.Kv), {
    name: "TypeError",
    message: "Cannot create KvStore: kv must be a Deno.Kv (from Deno.openKv())",
  });
  using store = await ownedStore();
  assert.throws(() => new KvStore(store.kv, { prefix: "sessions" as never }), {
    name: "TypeError",
    message: /^Cannot create KvStore: prefix must be an array of key parts/,
  });
  const custom = new KvStore(store.kv, { prefix: ["app", 1] });
  await custom.commit("t", filled(3), inAMinute());
  assert.ok((await store.kv.get(["app", 1, "t"])).value !== null);
  assert.equal(isVersionedStore(custom), true);
});

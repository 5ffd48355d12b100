import assert from "node:assert/strict";
import { KV_MAX_SESSION_BYTES, KvStore } from "./kv.ts";
import { jsonCodec } from "./codec.ts";
import { SessionManager } from "./manager.ts";
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

Deno.test("KvStore never returns half of a session: a write between its reads is read again", async () => {
  using store = await ownedStore();
  await store.commit("big", filled(200_000), inAMinute());
  let writes = 0;
  // A KV whose first read of chunks comes after another write of the session.
  const kv = new Proxy(store.kv, {
    get(target, name) {
      if (name === "getMany") {
        return async (keys: Deno.KvKey[]) => {
          if (writes++ === 0) {
            await store.commit("big", filled(150_000, 7), inAMinute());
          }
          return target.getMany(keys);
        };
      }
      const value = Reflect.get(target, name);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  assert.deepEqual(await new KvStore(kv).find("big"), filled(150_000, 7));
  assert.equal(writes, 2, "read again");
});

Deno.test("KvStore reads a broken chunk set as no session, removes it, and lists the rest", async (t) => {
  for (
    const [name, damage] of [
      ["a chunk deleted", (kv: Deno.Kv) => kv.delete(["sessions", "big", 1])],
      [
        "a chunk of another write",
        (kv: Deno.Kv) =>
          kv.set(["sessions", "big", 1], { id: "other", data: filled(9) }),
      ],
      ["a chunk not ours", (kv: Deno.Kv) => kv.set(["sessions", "big", 0], 5)],
    ] as const
  ) {
    await t.step(name, async () => {
      using store = await ownedStore();
      await store.commit("big", filled(200_000), inAMinute());
      await store.commit("big2", filled(200_000, 2), inAMinute());
      await store.commit("small", filled(10), inAMinute());
      await damage(store.kv);
      const all = await store.all();
      assert.deepEqual([...all.keys()].sort(), ["big2", "small"]);
      assert.equal(await store.find("big"), undefined);
      assert.equal(await store.findVersioned("big"), undefined);
      const left = [];
      for await (
        const { key } of store.kv.list({ prefix: ["sessions", "big"] })
      ) {
        left.push(key);
      }
      assert.deepEqual(left, [], "the broken entry is removed");
      const write = {
        token: "big",
        ifVersion: null,
        data: filled(5),
        expiry: inAMinute(),
      };
      assert.equal(await store.commitVersioned([write]), true);
      assert.deepEqual(await store.find("big"), filled(5));
    });
  }
});

Deno.test("KvStore reads a value that is not its own as no entry, everywhere", async () => {
  using store = await ownedStore();
  const mine = jsonCodec.encode({ deadline: inAMinute(), values: { a: 1 } });
  await store.commit("mine", mine, inAMinute());
  const foreign = [null, 5, "text", { expiry: "soon" }, [1, 2], true];
  for (const [i, value] of foreign.entries()) {
    await store.kv.set(["sessions", `f${i}`], value);
  }
  await store.kv.set(["sessions", 42], { any: "thing" }); // not a token
  assert.deepEqual([...(await store.all()).keys()], ["mine"]);
  for (const i of foreign.keys()) {
    assert.equal(await store.find(`f${i}`), undefined);
    assert.equal(await store.findVersioned(`f${i}`), undefined);
  }
  using sessions = new SessionManager({ store });
  let visited = 0;
  await sessions.iterate(() => void visited++);
  assert.equal(visited, 1);
});

Deno.test("KvStore checks the expiry itself: KV's expiry is eventual", async () => {
  using store = await ownedStore();
  const expiry = new Date(Date.now() + 500);
  await store.commit("a", filled(5), expiry);
  const read = (await store.findVersioned("a"))!;
  while (Date.now() <= expiry.getTime()) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
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

Deno.test("KvStore keeps a session that expires at the last valid Date", async () => {
  using store = await ownedStore();
  const last = new Date(8.64e15);
  await store.commit("a", filled(3), last);
  assert.deepEqual(await store.find("a"), filled(3));
  assert.equal((await store.findVersioned("a"))?.expiry.getTime(), 8.64e15);
  const write = { token: "b", ifVersion: null, data: filled(4), expiry: last };
  assert.equal(await store.commitVersioned([write]), true);
  assert.equal((await store.all()).size, 2);
});

Deno.test("SessionManager over KvStore makes the fewest operations a request needs", async () => {
  using store = await ownedStore();
  using sessions = new SessionManager<{ n: number; message: string }>({
    store,
  });
  const handler = sessions.loadAndSave((request, session) => {
    const path = new URL(request.url).pathname;
    if (path === "/count") session.put("n", (session.get("n") ?? 0) + 1);
    if (path === "/put") session.put("message", "hello");
    return new Response("ok");
  });
  const first = await handler(new Request("http://localhost/put"));
  const cookie = first.headers.get("set-cookie")!.split(";")[0]!;
  const calls = async (path: string) => {
    const before = store.stats();
    const response = await handler(
      new Request(`http://localhost${path}`, { headers: { cookie } }),
    );
    await response.body?.cancel();
    const after = store.stats();
    return {
      reads: after.reads - before.reads,
      writes: after.writes - before.writes,
    };
  };
  assert.deepEqual(await calls("/get"), { reads: 1, writes: 0 });
  assert.deepEqual(await calls("/put"), { reads: 1, writes: 0 }, "unchanged");
  assert.deepEqual(await calls("/count"), { reads: 1, writes: 1 });
  assert.deepEqual(await calls("/count"), { reads: 1, writes: 1 });
});

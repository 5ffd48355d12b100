import assert from "node:assert/strict";
import { bytes, fakeTime, inMs, text } from "./_test_helpers.ts";
import { MemStore } from "./memstore.ts";

Deno.test("MemStore.find() returns the committed bytes", async () => {
  using _clock = fakeTime();
  using store = new MemStore();
  await store.commit("token", bytes("data"), inMs(1000));
  assert.equal(text(await store.find("token")), "data");
  assert.equal(await store.find("missing"), undefined);
});

Deno.test("MemStore.commit() inserts and replaces data and expiry", async () => {
  using clock = fakeTime();
  using store = new MemStore();
  await store.commit("token", bytes("one"), inMs(1000));
  await store.commit("token", bytes("two"), inMs(5000));
  assert.equal(store.size, 1);
  clock.tick(2000);
  assert.equal(text(await store.find("token")), "two");
  await store.commit("token", bytes("three"), inMs(100));
  clock.tick(100);
  assert.equal(await store.find("token"), undefined);
});

Deno.test("MemStore has one expiry boundary: live while now < expiry", async (t) => {
  using clock = fakeTime();
  using swept = new MemStore({ cleanupInterval: 1000 });
  using kept = new MemStore({ cleanupInterval: 0 });
  const expiry = inMs(1000);
  await swept.commit("token", bytes("data"), expiry);
  await kept.commit("token", bytes("data"), expiry);

  await t.step("one ms before expiry the session is live", async () => {
    clock.tick(999);
    assert.equal(text(await kept.find("token")), "data");
    assert.deepEqual([...(await kept.all()).keys()], ["token"]);
    assert.equal(swept.size, 1);
  });
  await t.step(
    "at expiry find() and all() hide it, and the sweep removes it",
    async () => {
      clock.tick(1);
      assert.equal(Date.now(), expiry.getTime());
      assert.equal(await kept.find("token"), undefined);
      assert.equal((await kept.all()).size, 0);
      assert.equal(kept.size, 1, "held until swept");
      assert.equal(swept.size, 0, "swept at the same instant");
    },
  );
});

Deno.test("MemStore.commit() with an expiry at or before now removes the session", async () => {
  using _clock = fakeTime();
  using store = new MemStore();
  await store.commit("a", bytes("a"), inMs(1000));
  await store.commit("b", bytes("b"), inMs(1000));
  await store.commit("a", bytes("new"), inMs(0));
  await store.commit("b", bytes("new"), inMs(-1000));
  await store.commit("c", bytes("c"), inMs(-1));
  assert.equal(store.size, 0);
  assert.equal(await store.find("a"), undefined);
  assert.equal((await store.all()).size, 0);
});

Deno.test("MemStore.delete() removes a session; a missing token is not an error", async () => {
  using _clock = fakeTime();
  using store = new MemStore();
  await store.commit("token", bytes("data"), inMs(1000));
  await store.delete("token");
  assert.equal(await store.find("token"), undefined);
  assert.equal(store.size, 0);
  await store.delete("token");
  await store.delete("never-held");
});

Deno.test("MemStore.all() returns a new Map of the live sessions", async () => {
  using clock = fakeTime();
  using store = new MemStore({ cleanupInterval: 0 });
  const empty = await store.all();
  assert.ok(empty instanceof Map);
  assert.equal(empty.size, 0);

  await store.commit("short", bytes("s"), inMs(500));
  await store.commit("long", bytes("l"), inMs(2000));
  const first = await store.all();
  assert.deepEqual(
    [...first].map(([token, data]) => [token, text(data)]),
    [["short", "s"], ["long", "l"]],
  );
  first.delete("long");
  assert.notEqual(await store.all(), first);
  assert.equal((await store.all()).size, 2);

  clock.tick(500);
  assert.deepEqual([...(await store.all()).keys()], ["long"]);
});

Deno.test("MemStore keeps stored bytes isolated from the caller's arrays", async (t) => {
  using _clock = fakeTime();
  using store = new MemStore();

  await t.step("changing the committed array changes nothing", async () => {
    const data = bytes("abc");
    await store.commit("token", data, inMs(1000));
    data[0] = 0x7a;
    assert.equal(text(await store.find("token")), "abc");
  });
  await t.step("changing an array from find() changes nothing", async () => {
    const found = (await store.find("token"))!;
    found[0] = 0x7a;
    assert.equal(text(await store.find("token")), "abc");
  });
  await t.step("changing an array from all() changes nothing", async () => {
    (await store.all()).get("token")![0] = 0x7a;
    assert.equal(text(await store.find("token")), "abc");
  });
  await t.step("a view stores only its own bytes", async () => {
    const whole = bytes("0123456789");
    await store.commit("view", whole.subarray(3, 6), inMs(1000));
    const found = (await store.find("view"))!;
    assert.equal(text(found), "345");
    assert.equal(found.byteOffset, 0);
    assert.equal(found.buffer.byteLength, 3);
  });
});

Deno.test("MemStore applies operations in call order without awaits", async () => {
  using _clock = fakeTime();
  using store = new MemStore();
  const pending = [
    store.commit("a", bytes("1"), inMs(1000)),
    store.commit("a", bytes("2"), inMs(1000)),
    store.delete("b"),
    store.commit("b", bytes("3"), inMs(1000)),
    store.commit("c", bytes("4"), inMs(1000)),
    store.delete("c"),
  ];
  const found = [store.find("a"), store.find("b"), store.find("c")];
  await Promise.all(pending);
  assert.deepEqual((await Promise.all(found)).map(text), ["2", "3", undefined]);
});

Deno.test("MemStore rejects bad input with a TypeError and changes nothing", async (t) => {
  using _clock = fakeTime();
  using store = new MemStore();
  await store.commit("token", bytes("kept"), inMs(1000));
  const bad = 42 as unknown as string;

  await t.step("a token that is not a string", async () => {
    await assert.rejects(store.find(bad), {
      name: "TypeError",
      message: "Cannot find session: token must be a string, received 42",
    });
    await assert.rejects(store.commit(bad, bytes("x"), inMs(1000)), {
      name: "TypeError",
      message: "Cannot commit session: token must be a string, received 42",
    });
    await assert.rejects(store.delete(undefined as unknown as string), {
      name: "TypeError",
      message:
        "Cannot delete session: token must be a string, received undefined",
    });
  });
  await t.step("data that is not a Uint8Array", async () => {
    for (
      const [data, received] of [
        [new ArrayBuffer(2), "an ArrayBuffer"],
        [[1, 2], "an Array"],
        ["text", '"text"'],
        [new Uint16Array(2), "a Uint16Array"],
        [null, "null"],
      ] as const
    ) {
      await assert.rejects(
        store.commit("token", data as unknown as Uint8Array, inMs(1000)),
        {
          name: "TypeError",
          message:
            `Cannot commit session: data must be a Uint8Array, received ${received}`,
        },
      );
    }
  });
  await t.step("an expiry that is not a valid Date", async () => {
    for (
      const [expiry, received] of [
        [new Date(NaN), "an Invalid Date"],
        [Date.now() + 1000, String(Date.now() + 1000)],
        ["2030-01-01", '"2030-01-01"'],
        [undefined, "undefined"],
      ] as const
    ) {
      await assert.rejects(
        store.commit("token", bytes("x"), expiry as unknown as Date),
        {
          name: "TypeError",
          message:
            `Cannot commit session: expiry must be a valid Date, received ${received}`,
        },
      );
    }
  });
  await t.step("the stored session is unchanged", async () => {
    assert.equal(store.size, 1);
    assert.equal(text(await store.find("token")), "kept");
  });
});

Deno.test("new MemStore() checks its options", () => {
  for (const value of ["1000", null, true]) {
    assert.throws(
      () => new MemStore({ cleanupInterval: value as unknown as number }),
      {
        name: "TypeError",
        message:
          /^Cannot create MemStore: cleanupInterval must be a number of milliseconds, received /,
      },
    );
  }
  for (const value of [-5, NaN, Infinity, -Infinity, 2 ** 31]) {
    assert.throws(() => new MemStore({ cleanupInterval: value }), {
      name: "RangeError",
      message:
        `Cannot create MemStore: cleanupInterval must be a finite number >= 0 and <= 2147483647, received ${value}`,
    });
  }
  assert.throws(() => new MemStore(null as unknown as undefined), {
    name: "TypeError",
    message: "Cannot create MemStore: options must be an object, received null",
  });
});

Deno.test("MemStore sweeps expired sessions every cleanupInterval", async (t) => {
  await t.step("once a minute by default", async () => {
    using clock = fakeTime();
    using store = new MemStore();
    assert.equal(clock.countTimers(), 1);
    await store.commit("token", bytes("data"), inMs(1000));
    clock.tick(1000);
    assert.equal(await store.find("token"), undefined);
    assert.equal(store.size, 1, "expired but not yet swept");
    clock.tick(58_999);
    assert.equal(store.size, 1);
    clock.tick(1);
    assert.equal(store.size, 0);
  });
  await t.step("at the interval given", async () => {
    using clock = fakeTime();
    using store = new MemStore({ cleanupInterval: 200 });
    await store.commit("expires", bytes("x"), inMs(100));
    await store.commit("stays", bytes("y"), inMs(1000));
    clock.tick(199);
    assert.equal(store.size, 2);
    clock.tick(1);
    assert.equal(store.size, 1);
    assert.equal(text(await store.find("stays")), "y");
  });
  await t.step("a session extended by a later commit survives", async () => {
    using clock = fakeTime();
    using store = new MemStore({ cleanupInterval: 100 });
    await store.commit("token", bytes("x"), inMs(100));
    await store.commit("token", bytes("y"), inMs(10_000));
    clock.tick(5000);
    assert.equal(store.size, 1);
    assert.equal(text(await store.find("token")), "y");
    clock.tick(5000);
    assert.equal(store.size, 0);
  });
  await t.step("a session shortened by a later commit goes early", async () => {
    using clock = fakeTime();
    using store = new MemStore({ cleanupInterval: 100 });
    await store.commit("token", bytes("x"), inMs(10_000));
    await store.commit("token", bytes("y"), inMs(50));
    clock.tick(100);
    assert.equal(store.size, 0);
  });
  await t.step(
    "cleanupInterval: 0 creates no timer and never sweeps",
    async () => {
      using clock = fakeTime();
      using store = new MemStore({ cleanupInterval: 0 });
      assert.equal(clock.countTimers(), 0);
      await store.commit("token", bytes("x"), inMs(10));
      clock.tick(3_600_000);
      assert.equal(store.size, 1);
      assert.equal(await store.find("token"), undefined);
    },
  );
});

Deno.test("MemStore sweeps in slices that yield to the event loop", async () => {
  using clock = fakeTime();
  using store = new MemStore({ cleanupInterval: 1000 });
  const expiry = inMs(10);
  for (let i = 0; i < 5000; i++) {
    await store.commit(`expired-${i}`, bytes("x"), expiry);
  }
  await store.commit("live", bytes("y"), inMs(60_000));
  // Let each reading of the monotonic clock take 1 ms, so a slice runs out.
  const now = performance.now;
  let elapsed = 0;
  performance.now = () => (elapsed += 1);
  try {
    clock.tick(1000);
    const afterFirstSlice = store.size;
    assert.ok(
      afterFirstSlice > 1 && afterFirstSlice < 5000,
      `${afterFirstSlice}`,
    );
    assert.equal(clock.countTimers(), 2, "interval and the slice to come");
    clock.runToLast();
    assert.equal(store.size, 1);
    assert.equal(text(await store.find("live")), "y");
  } finally {
    performance.now = now;
  }
});

Deno.test("MemStore.stopCleanup() stops the sweep and leaves the store usable", async (t) => {
  await t.step("right after construction, and more than once", async () => {
    using clock = fakeTime();
    const store = new MemStore({ cleanupInterval: 100 });
    store.stopCleanup();
    store.stopCleanup();
    assert.equal(clock.countTimers(), 0);
    await store.commit("token", bytes("x"), inMs(50));
    assert.equal(text(await store.find("token")), "x");
    clock.tick(1000);
    assert.equal(store.size, 1, "no sweep ran");
    store[Symbol.dispose]();
  });
  await t.step("in the middle of a sliced sweep", async () => {
    using clock = fakeTime();
    const store = new MemStore({ cleanupInterval: 100 });
    for (let i = 0; i < 1000; i++) {
      await store.commit(`t${i}`, bytes("x"), inMs(10));
    }
    const now = performance.now;
    let elapsed = 0;
    performance.now = () => (elapsed += 1);
    try {
      clock.tick(100);
    } finally {
      performance.now = now;
    }
    assert.equal(clock.countTimers(), 2);
    store.stopCleanup();
    assert.equal(clock.countTimers(), 0);
  });
  await t.step("using stops it at the end of the block", () => {
    using clock = fakeTime();
    {
      using _store = new MemStore();
      assert.equal(clock.countTimers(), 1);
    }
    assert.equal(clock.countTimers(), 0);
  });
});

Deno.test("MemStore's sweep does not keep the process alive", async () => {
  const script = `
    import { MemStore } from ${
    JSON.stringify(import.meta.resolve("./memstore.ts"))
  };
    const store = new MemStore({ cleanupInterval: 50 });
    await store.commit("token", new Uint8Array([1]), new Date(Date.now() + 60_000));
    console.log("done");
  `;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-check", script],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // A hang guard, not a timing assertion: without unref the child never ends.
  const guard = setTimeout(() => child.kill(), 30_000);
  const { code, stdout, stderr } = await child.output();
  clearTimeout(guard);
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  assert.equal(new TextDecoder().decode(stdout).trim(), "done");
});

Deno.test("MemStore passes SCS's memstore cases", async (t) => {
  using clock = fakeTime();
  await t.step("find", async () => {
    using store = new MemStore({ cleanupInterval: 0 });
    await store.commit("session_token", bytes("encoded_data"), inMs(60_000));
    assert.equal(text(await store.find("session_token")), "encoded_data");
  });
  await t.step("find missing", async () => {
    using store = new MemStore({ cleanupInterval: 0 });
    assert.equal(await store.find("missing_session_token"), undefined);
  });
  await t.step("commit new", async () => {
    using store = new MemStore({ cleanupInterval: 0 });
    await store.commit("session_token", bytes("encoded_data"), inMs(60_000));
    assert.equal(text(await store.find("session_token")), "encoded_data");
  });
  await t.step("commit updated", async () => {
    using store = new MemStore({ cleanupInterval: 0 });
    await store.commit("session_token", bytes("encoded_data"), inMs(60_000));
    await store.commit(
      "session_token",
      bytes("new_encoded_data"),
      inMs(60_000),
    );
    assert.equal(text(await store.find("session_token")), "new_encoded_data");
  });
  await t.step("expiry", async () => {
    using store = new MemStore({ cleanupInterval: 0 });
    await store.commit("session_token", bytes("encoded_data"), inMs(100));
    assert.equal(text(await store.find("session_token")), "encoded_data");
    clock.tick(101);
    assert.equal(await store.find("session_token"), undefined);
  });
  await t.step("delete", async () => {
    using store = new MemStore({ cleanupInterval: 0 });
    await store.commit("session_token", bytes("encoded_data"), inMs(60_000));
    await store.delete("session_token");
    assert.equal(await store.find("session_token"), undefined);
  });
  await t.step("cleanup interval", async () => {
    using store = new MemStore({ cleanupInterval: 200 });
    await store.commit("session_token", bytes("encoded_data"), inMs(500));
    assert.equal(store.size, 1);
    clock.tick(1000);
    assert.equal(store.size, 0);
  });
  await t.step("stop with no cleanup", () => {
    const store = new MemStore({ cleanupInterval: 0 });
    store.stopCleanup();
    assert.equal(clock.countTimers(), 0);
  });
  await t.step("all", async () => {
    using store = new MemStore({ cleanupInterval: 0 });
    for (let i = 0; i < 4; i++) {
      await store.commit(`token_${i}`, bytes(`data_${i}`), inMs(60_000));
    }
    const all = await store.all();
    assert.deepEqual(
      [...all].map(([token, data]) => [token, text(data)]),
      [0, 1, 2, 3].map((i) => [`token_${i}`, `data_${i}`]),
    );
  });
});

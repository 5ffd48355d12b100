// RedisStore against a real redis-server that each test starts on a free
// port, with persistence off, and stops.
import assert from "node:assert/strict";
import { client, createClient, startRedis, tokenOf } from "./_test_helpers.ts";
import { FrozenClock } from "./_store_checks.ts";
import { SessionManager } from "./manager.ts";
import { RedisStore } from "./redis.ts";
import { isVersionedStore } from "./store.ts";
import { testStore } from "./testing.ts";

/** A connected client to `url`, closed when disposed. */
async function connect(url: string) {
  const redis = createClient({
    url,
    socket: { reconnectStrategy: () => 50 },
  });
  redis.on("error", () => {}); // reconnects are expected in the fault test
  await redis.connect();
  return Object.assign(redis, {
    async [Symbol.asyncDispose]() {
      if (redis.isOpen) await redis.close();
    },
  });
}

Deno.test("RedisStore passes the store conformance kit", async (t) => {
  await using server = await startRedis();
  await using redis = await connect(server.url);
  let n = 0;
  await testStore(t, () => new RedisStore(redis, { prefix: `kit${n++}:` }));
});

Deno.test("RedisStore keeps keys under its prefix, and lists past one SCAN batch", async () => {
  await using server = await startRedis();
  await using redis = await connect(server.url);
  const store = new RedisStore(redis, { prefix: "a*[b]:" }); // glob characters
  const other = new RedisStore(redis, { prefix: "other:" });
  const expiry = new Date(Date.now() + 60_000);
  for (let i = 0; i < 1_200; i++) {
    await store.commit(`t${i}`, new Uint8Array([i % 256]), expiry);
  }
  await other.commit("t1", new Uint8Array([7]), expiry);
  const all = await store.all();
  assert.equal(all.size, 1_200);
  assert.equal(all.get("t300")?.[0], 300 % 256);
  assert.equal((await other.all()).size, 1);
  assert.equal(await redis.exists("a*[b]:t5"), 1);
  const ttl = await redis.pTTL("a*[b]:t5");
  assert.ok(ttl > 55_000 && ttl <= 60_000, `the key expires in Redis: ${ttl}`);
});

Deno.test("SessionManager over RedisStore shares sessions between processes and merges them", async () => {
  await using server = await startRedis();
  await using redisA = await connect(server.url);
  await using redisB = await connect(server.url);
  // Two managers, two clients, one Redis: two processes of one app.
  using a = new SessionManager<Record<string, number>>({
    store: new RedisStore(redisA),
  });
  using b = new SessionManager<Record<string, number>>({
    store: new RedisStore(redisB),
  });
  const app = (sessions: SessionManager<Record<string, number>>) =>
    sessions.loadAndSave((request, session) => {
      const key = new URL(request.url).searchParams.get("key");
      if (key !== null) session.put(key, 1);
      return new Response(session.keys().join(","));
    });
  const browser = client(app(a));
  await browser.get("/?key=start");
  const cookie = browser.cookie!;
  const requests = Array.from({ length: 40 }, (_, i) =>
    app(i % 2 ? a : b)(
      new Request(`http://localhost/?key=k${i}`, { headers: { cookie } }),
    ));
  for (const response of await Promise.all(requests)) {
    assert.equal(response.status, 200);
  }
  const session = await b.load(tokenOf(cookie)!);
  assert.equal(session.keys().length, 41, "every request's key survived");
});

Deno.test("SessionManager over RedisStore answers through onError while Redis is down, and recovers", async () => {
  await using server = await startRedis();
  await using redis = await connect(server.url);
  const errors: unknown[] = [];
  using sessions = new SessionManager<{ n: number }>({
    store: new RedisStore(redis, { commandTimeout: 300 }),
    onError: (error) => {
      errors.push(error);
      return new Response("unavailable", { status: 503 });
    },
  });
  const browser = client(sessions.loadAndSave((_request, session) => {
    session.put("n", (session.get("n") ?? 0) + 1);
    return new Response(String(session.get("n")));
  }));
  assert.equal(await (await browser.get("/")).text(), "1");
  await server.stop();
  const started = performance.now();
  const down = await browser.get("/");
  assert.equal(down.status, 503);
  assert.ok(performance.now() - started < 5_000, "answered in bounded time");
  assert.ok(errors.length > 0);
  await server.start(); // the same port: the client reconnects by itself
  let back: Response | undefined;
  for (let i = 0; i < 100 && back?.status !== 200; i++) {
    await back?.body?.cancel();
    back = await browser.get("/");
    if (back.status !== 200) await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(back?.status, 200, "served again without a restart");
  assert.equal(await back!.text(), "1", "a fresh session: Redis lost its data");
});

Deno.test("new RedisStore() checks its client and options", async () => {
  assert.throws(() => new RedisStore({} as never), {
    name: "TypeError",
    message: /client must be a node-redis client/,
  });
  await using server = await startRedis();
  await using redis = await connect(server.url);
  assert.throws(() => new RedisStore(redis, { prefix: 5 as never }), {
    name: "TypeError",
    message: "Cannot create RedisStore: prefix must be a string, received 5",
  });
  assert.throws(() => new RedisStore(redis, { commandTimeout: 0 }), RangeError);
  assert.equal(isVersionedStore(new RedisStore(redis)), true);
});

Deno.test("RedisStore keeps the app's expiry when Redis's clock differs", async (t) => {
  await using server = await startRedis();
  await using redis = await connect(server.url);
  const store = new RedisStore(redis);
  for (const skew of [-120_000, 120_000]) {
    await t.step(`app clock ${skew / 1000} s off`, async () => {
      using clock = new FrozenClock();
      clock.now += skew;
      const expiry = new Date(clock.now + 60_000);
      await store.commit("plain", new Uint8Array([1]), expiry);
      const versioned = await store.commitVersioned([
        { token: "cas", ifVersion: null, data: new Uint8Array([2]), expiry },
      ]);
      assert.equal(versioned, true);
      for (const token of ["plain", "cas"]) {
        assert.ok(await store.find(token), `${token} is live`);
        const ttl = await redis.pTTL(`session:${token}`);
        assert.ok(ttl > 55_000 && ttl <= 60_000, `${token} lives 60 s: ${ttl}`);
      }
      clock.now += 60_000;
      assert.equal(await store.find("plain"), undefined, "gone at expiry");
      await store.delete("plain");
      await store.delete("cas");
    });
  }
});

Deno.test("RedisStore keeps a session that expires at the last valid Date", async () => {
  await using server = await startRedis();
  await using redis = await connect(server.url);
  const store = new RedisStore(redis);
  const last = new Date(8.64e15);
  await store.commit("a", new Uint8Array([1]), last);
  assert.deepEqual(await store.find("a"), new Uint8Array([1]));
  assert.equal((await store.findVersioned("a"))?.expiry.getTime(), 8.64e15);
  assert.equal(
    await store.commitVersioned([
      { token: "b", ifVersion: null, data: new Uint8Array([2]), expiry: last },
    ]),
    true,
  );
  assert.equal((await store.all()).size, 2);
});

Deno.test("RedisStore reads a value that is not its own as no entry, everywhere", async () => {
  await using server = await startRedis();
  await using redis = await connect(server.url);
  const store = new RedisStore(redis);
  const foreign = [
    "short",
    "x".repeat(40),
    "0123456789abcdef000173358000000s{}", // a 15-digit expiry
    "0123456789abcdef00017335800000000x{}", // an unknown kind
  ];
  for (const [i, value] of foreign.entries()) {
    await redis.set(`session:f${i}`, value);
    assert.equal(await store.find(`f${i}`), undefined, value);
    assert.equal(await store.findVersioned(`f${i}`), undefined, value);
    const write = {
      token: `f${i}`,
      ifVersion: null,
      data: new Uint8Array([i]),
      expiry: new Date(Date.now() + 60_000),
    };
    assert.equal(await store.commitVersioned([write]), true, value);
    assert.deepEqual(await store.find(`f${i}`), new Uint8Array([i]));
  }
  await redis.set("session:other", "short");
  await redis.hSet("session:hash", "a", "1"); // not a string: MGET gives nil
  assert.equal((await store.all()).size, foreign.length);
});

Deno.test("SessionManager over RedisStore makes the fewest calls a request needs", async () => {
  await using server = await startRedis();
  await using redis = await connect(server.url);
  const sent: string[] = [];
  // The client's view that RedisStore sends through, counting commands.
  const counted = {
    withTypeMapping(mapping: never) {
      const view = redis.withTypeMapping(mapping);
      return {
        sendCommand(args: (string | Uint8Array)[], options?: never) {
          sent.push(String(args[0]));
          return view.sendCommand(args as never, options);
        },
      };
    },
  };
  using sessions = new SessionManager<{ n: number; message: string }>({
    store: new RedisStore(counted as never),
  });
  const browser = client(sessions.loadAndSave((request, session) => {
    const path = new URL(request.url).pathname;
    if (path === "/count") session.put("n", (session.get("n") ?? 0) + 1);
    if (path === "/put") session.put("message", "hello");
    return new Response(String(session.get("n") ?? ""));
  }));
  await browser.get("/put");
  const calls = async (path: string) => {
    sent.length = 0;
    const response = await browser.get(path);
    await response.body?.cancel();
    return [...sent];
  };
  assert.deepEqual(await calls("/get"), ["GET"]);
  assert.deepEqual(await calls("/put"), ["GET"], "unchanged: the load only");
  assert.deepEqual(await calls("/count"), ["GET", "EVALSHA"]);
  assert.deepEqual(await calls("/count"), ["GET", "EVALSHA"]);
});

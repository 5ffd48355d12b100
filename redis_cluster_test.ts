// RedisStore on a Redis Cluster of 3 masters and 3 replicas that each test
// starts (six redis-server processes on free ports) and stops.
import assert from "node:assert/strict";
import {
  client,
  createClient,
  createCluster,
  type RedisCluster,
  startRedisCluster,
} from "./_test_helpers.ts";
import { SessionManager } from "./manager.ts";
import {
  type RedisClient,
  type RedisClusterClient,
  RedisStore,
} from "./redis.ts";
import { testStore } from "./testing.ts";

/** A connected cluster client, closed when disposed. */
async function connect(urls: string[]) {
  const cluster = createCluster({
    rootNodes: urls.map((url) => ({ url })),
    defaults: { socket: { reconnectStrategy: () => 100, connectTimeout: 500 } },
  });
  cluster.on("error", () => {}); // a node going down is expected here
  await cluster.connect();
  return Object.assign(cluster, {
    [Symbol.asyncDispose]() {
      cluster.destroy();
      return Promise.resolve();
    },
  });
}

/**
 * One cluster for the tests that do not break it (each keeps its own key
 * prefix), started by the first and stopped by the last: a cluster takes
 * seconds to start. Those tests leave it running, so their sanitizers are off.
 */
let shared: Promise<{ redis: RedisCluster; cluster: Connected }> | undefined;
type Connected = Awaited<ReturnType<typeof connect>>;
const oneCluster = () =>
  shared ??= (async () => {
    const redis = await startRedisCluster();
    return { redis, cluster: await connect(redis.urls) };
  })();
const SHARED = { sanitizeOps: false, sanitizeResources: false };

Deno.test("node-redis's cluster and node clients are RedisClients", () => {
  const cluster: RedisClient = createCluster({ rootNodes: [] });
  const node: RedisClient = createClient();
  assert.ok(cluster && node);
});

Deno.test(
  "RedisStore on Redis Cluster passes the store conformance kit",
  SHARED,
  async (t) => {
    const { cluster } = await oneCluster();
    let n = 0;
    await testStore(t, () => new RedisStore(cluster, { prefix: `kit${n++}:` }));
  },
);

Deno.test(
  "On a cluster, sessions spread over every master, and all() visits each",
  SHARED,
  async () => {
    const { redis, cluster } = await oneCluster();
    const store = new RedisStore(cluster, { prefix: "spread:" });
    const expiry = new Date(Date.now() + 60_000);
    const tokens = Array.from({ length: 300 }, (_, i) => `t${i}`);
    await Promise.all(
      tokens.map((token) => store.commit(token, new Uint8Array([1]), expiry)),
    );
    const masters = new Set(
      await Promise.all(
        tokens.map((token) => redis.masterOf(`spread:${token}`)),
      ),
    );
    assert.equal(masters.size, 3, "every master holds sessions");
    assert.equal((await store.all()).size, 300);
  },
);

Deno.test(
  "SessionManager over a cluster: renewals across slots, overlapping requests merged, users listed, ended entries removed from a list",
  SHARED,
  async () => {
    const { redis, cluster } = await oneCluster();
    using sessions = new SessionManager<Record<string, string>>({
      store: new RedisStore(cluster, { prefix: "app:" }),
      users: { key: "user" },
      onDropped: () => {},
    });
    const app = sessions.loadAndSave((request, session) => {
      const url = new URL(request.url);
      const param = (name: string) => url.searchParams.get(name) ?? "";
      if (url.pathname === "/login") {
        session.renewToken();
        session.put("user", param("user"));
      } else if (url.pathname === "/logout") {
        session.destroy();
      } else if (url.pathname === "/set") {
        session.put(param("key"), param("value"));
      }
      return Response.json(
        Object.fromEntries(session.keys().map((k) => [k, session.get(k)])),
      );
    });
    const jar = client(app);
    await jar.get("/set?key=cart&value=1");
    const before = jar.cookie!;
    // Forty overlapping requests of one session, each putting its own key.
    await Promise.all(
      Array.from(
        { length: 40 },
        (_, i) => jar.get(`/set?key=k${i}&value=${i}`),
      ),
    );
    assert.equal(Object.keys(await (await jar.get("/")).json()).length, 41);

    // A renewal writes two keys in different slots (checked, so the test
    // would show a CROSSSLOT refusal).
    let old = before.split("=")[1]!;
    for (let tries = 0; tries < 20; tries++) {
      await jar.get("/login?user=ada");
      if (
        await redis.masterOf(`app:${old}`) !==
          await redis.masterOf(`app:${jar.cookie!.split("=")[1]}`)
      ) break;
      old = jar.cookie!.split("=")[1]!;
    }
    const fresh = jar.cookie!;
    assert.notEqual(fresh.split("=")[1], old);
    const stale = client(app);
    stale.cookie = `session=${old}`;
    assert.deepEqual(await (await stale.get("/")).json(), {}, "old token dead");
    assert.equal((await (await jar.get("/")).json()).user, "ada");
    const [device] = await sessions.users.list("ada");
    assert.ok(device, "listed under ada");
    // The logins before left entries of ended tokens (the renewals'
    // markers): a list removes them.
    assert.deepEqual(await cluster.zRange("app:user:ada", 0, -1), [
      fresh.split("=")[1],
    ]);
    const phone = client(app);
    await phone.get("/login?user=ada");
    assert.equal(
      await sessions.users.revokeAll("ada", { except: device!.id }),
      1,
    );
    assert.equal((await sessions.users.list("ada")).length, 1);
    assert.deepEqual(await cluster.zRange("app:user:ada", 0, -1), [
      fresh.split("=")[1],
    ], "the revoked session's entry is gone");

    await jar.get("/logout");
    assert.deepEqual(await sessions.users.list("ada"), []);
    assert.deepEqual(await cluster.zRange("app:user:ada", 0, -1), []);
    const ended = client(app);
    ended.cookie = fresh;
    assert.deepEqual(await (await ended.get("/")).json(), {}, "signed out");
  },
);

/**
 * `cluster` behind a view whose commands fail (as if the connection were
 * lost) while `fails(args)` says so.
 */
function failing(
  cluster: RedisClusterClient,
  fails: (args: ReadonlyArray<unknown>) => boolean,
): RedisClusterClient {
  return {
    withTypeMapping(mapping) {
      const view = cluster.withTypeMapping(mapping);
      return {
        sendCommand: (key, readonly, args, options) =>
          fails(args)
            ? Promise.reject(new Error("connection lost"))
            : view.sendCommand(key, readonly, args, options),
      };
    },
    get masters() {
      return cluster.masters;
    },
    nodeClient: (node) => cluster.nodeClient(node),
    getSlotMaster: (slot) => cluster.getSlotMaster(slot),
  };
}

Deno.test(
  "On a cluster, a renewal interrupted between its writes signs the user out, and never leaves the old token alive",
  SHARED,
  async () => {
    const { cluster } = await oneCluster();
    // Armed, the second write of a session key (a renewal's new session,
    // after the old token's marker) fails.
    let armed = false, sessionWrites = 0;
    const store = new RedisStore(
      failing(cluster, (args) => {
        const write = args[0] === "EVALSHA" &&
          /^cut:[^:]+$/.test(String(args[3]));
        return armed && write && ++sessionWrites === 2;
      }),
      { prefix: "cut:" },
    );
    const errors: unknown[] = [];
    using sessions = new SessionManager<{ user: string; cart: string }>({
      store,
      users: { key: "user" },
      onError: (error) => {
        errors.push(error);
        return new Response("later", { status: 503 });
      },
    });
    const app = sessions.loadAndSave((request, session) => {
      if (new URL(request.url).pathname === "/login") {
        session.renewToken();
        session.put("user", "ada");
      } else {
        session.put("cart", "1");
      }
      return new Response(session.get("user") ?? "nobody");
    });
    const jar = client(app);
    await jar.get("/cart");
    const old = jar.cookie!;
    armed = true;
    const response = await jar.get("/login");
    armed = false;
    assert.equal(sessionWrites, 2, "the marker was written, then the failure");
    assert.equal(response.status, 503, "the request fails");
    assert.match(String(errors[0]), /connection lost/);
    assert.equal(jar.cookie, old, "no new cookie was sent");
    assert.equal(
      await (await jar.get("/")).text(),
      "nobody",
      "the old token is dead: a new, anonymous session",
    );
    assert.deepEqual(await sessions.users.list("ada"), [], "no live session");
  },
);

Deno.test("On a cluster, requests of a killed master's slots fail in bounded time, and succeed again once its replica takes over", async () => {
  await using redis = await startRedisCluster();
  await using cluster = await connect(redis.urls);
  const errors: unknown[] = [];
  using sessions = new SessionManager<{ n: number }>({
    store: new RedisStore(cluster, { commandTimeout: 1_000 }),
    onError: (error) => {
      errors.push(error);
      return new Response("later", { status: 503 });
    },
  });
  const app = sessions.loadAndSave((_request, session) => {
    session.put("n", (session.get("n") ?? 0) + 1);
    return new Response(String(session.get("n")));
  });
  const jar = client(app);
  assert.equal(await (await jar.get("/")).text(), "1");
  const token = jar.cookie!.split("=")[1]!;
  await redis.kill(await redis.masterOf(`session:${token}`));
  const started = performance.now();
  const failed = await jar.get("/");
  assert.equal(failed.status, 503);
  assert.ok(performance.now() - started < 10_000, "never hangs");
  await redis.healthy(); // the replica was promoted
  let status = 0, body = "";
  for (let tries = 0; tries < 100 && status !== 200; tries++) {
    const response = await jar.get("/");
    status = response.status;
    body = await response.text();
    if (status !== 200) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  assert.equal(status, 200, "the app recovers without a restart");
  assert.match(body, /^\d+$/);
});

Deno.test(
  "waitReplicas waits for replicas after each write",
  SHARED,
  async () => {
    const { cluster } = await oneCluster();
    const store = new RedisStore(cluster, { prefix: "wait:", waitReplicas: 1 });
    const expiry = new Date(Date.now() + 60_000);
    await store.commit("a", new Uint8Array([1]), expiry);
    assert.deepEqual(await store.find("a"), new Uint8Array([1]));
    const strict = new RedisStore(cluster, {
      prefix: "wait:",
      waitReplicas: 2,
      commandTimeout: 1_000,
    });
    await assert.rejects(
      strict.commit("b", new Uint8Array([1]), expiry),
      /0 of 2 replicas|1 of 2 replicas/,
    );
    assert.throws(
      () => new RedisStore(cluster, { waitReplicas: -1 }),
      /waitReplicas must be a whole number >= 0/,
    );
  },
);

Deno.test("The shared cluster stops", SHARED, async () => {
  if (shared === undefined) return;
  const { redis, cluster } = await shared;
  cluster.destroy();
  await redis[Symbol.asyncDispose]();
});

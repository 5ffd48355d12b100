// The server of `deno task soak`: sessions with a short idle timeout and
// lifetime, over a bounded MemStore (expiry, the sweep and eviction all
// run) or, with REDIS_URL, over RedisStore, or, with DATABASE_URL, over
// PostgresStore (its cleanup every second). Sessions are bound to users
// (u0, u1, ... up to $USERS) at sign-in. Prints {"port": N} when listening. GET /_stats
// collects garbage and reports the heap, the store, the sessions the
// per-user index lists, and the dropped-changes count.

import { createClient } from "redis";
import pg from "npm:pg@8.23.1";
import { PostgresStore } from "../postgres.ts";
import { SessionManager } from "../manager.ts";
import { MemStore } from "../memstore.ts";
import { RedisStore } from "../redis.ts";

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("Run with --v8-flags=--expose-gc");

/** Sessions with 3 s of idleness end, and none lives past 30 s. */
const IDLE_TIMEOUT = 3_000;
const LIFETIME = 30_000;

/** PostgresStore's cleanup runs every second, as MemStore's sweep does. */
const CLEANUP_INTERVAL = 1_000;

const redisUrl = Deno.env.get("REDIS_URL");
const redis = redisUrl === undefined
  ? undefined
  : await createClient({ url: redisUrl }).connect();
const databaseUrl = Deno.env.get("DATABASE_URL");
const pool = databaseUrl === undefined
  ? undefined
  : new pg.Pool({ connectionString: databaseUrl, max: 20 });
const postgres = pool && new PostgresStore(pool, {
  cleanupInterval: CLEANUP_INTERVAL,
});
await postgres?.createTable();
const memory = redis === undefined && postgres === undefined
  ? new MemStore({ cleanupInterval: CLEANUP_INTERVAL, maxSessions: 2_000 })
  : undefined;
const store = memory ?? postgres ?? new RedisStore(redis!);
let dropped = 0;
/** How many users clients sign in as (u0, u1, ...): $USERS. */
const USERS = Number(Deno.env.get("USERS"));
const sessions = new SessionManager<
  { visits: number; note: string; user: string }
>({
  store,
  users: { key: "user" },
  idleTimeout: IDLE_TIMEOUT,
  lifetime: LIFETIME,
  onDropped: () => void dropped++,
});

const app = sessions.loadAndSave(async (request, session) => {
  const url = new URL(request.url);
  switch (url.pathname) {
    case "/visit": {
      // A pause, as for a database query: other requests of the session run.
      await new Promise((resolve) => setTimeout(resolve, 0));
      const visits = (session.get("visits") ?? 0) + 1;
      session.put("visits", visits);
      return new Response(String(visits));
    }
    case "/note":
      session.put("note", url.searchParams.get("text") ?? "");
      return new Response("noted");
    case "/read":
      return new Response(session.get("note") ?? "");
    case "/pop":
      return new Response(session.pop("note") ?? "");
    case "/login":
      session.renewToken();
      session.put("user", url.searchParams.get("user") ?? "u0");
      return new Response(String(session.get("visits") ?? 0));
    case "/devices": {
      const user = session.get("user");
      const listed = user === undefined
        ? []
        : await sessions.users.list(user, session);
      return Response.json(listed.filter((device) => device.current).length);
    }
    case "/others": {
      // Sign out everywhere else.
      const user = session.get("user");
      if (user === undefined) return new Response("0");
      const ended = await sessions.users.revokeAll(user, { except: session });
      return new Response(String(ended));
    }
    case "/logout":
      session.destroy();
      return new Response("bye");
  }
  return new Response("Not Found", { status: 404 });
});

Deno.serve({
  port: 0,
  hostname: "127.0.0.1",
  onListen: ({ port }) => console.log(JSON.stringify({ port })),
}, (request) => {
  if (new URL(request.url).pathname !== "/_stats") return app(request);
  gc();
  return stats().then(async (store) =>
    Response.json({
      heap: Deno.memoryUsage().heapUsed,
      ...store,
      listed: await listed(),
      dropped,
    })
  );
});

/** The sessions the per-user index lists, over every user. */
async function listed(): Promise<number> {
  let count = 0;
  for (let user = 0; user < USERS; user++) {
    count += (await sessions.users.list(`u${user}`)).length;
  }
  return count;
}

/**
 * What the store holds and has counted: MemStore's, Redis's own, or the
 * table's rows (`stale`: rows expired for longer than two cleanup
 * intervals, which the cleanup should have deleted).
 */
async function stats() {
  if (memory !== undefined) {
    return { held: memory.size, bytes: memory.bytes, ...memory.stats() };
  }
  if (pool !== undefined) {
    const now = Date.now();
    const { rows } = await pool.query(
      `SELECT count(*)::int AS held,
         count(*) FILTER (WHERE expiry <= $1::bigint)::int AS expired,
         count(*) FILTER (WHERE expiry <= $1::bigint - $2)::int AS stale,
         pg_total_relation_size('sessions')::int AS bytes
       FROM sessions`,
      [now, 2 * CLEANUP_INTERVAL],
    );
    return { ...rows[0], hits: 0, misses: 0, evicted: 0 };
  }
  const info = String(await redis!.info());
  const field = (name: string) =>
    Number(new RegExp(`^${name}:(\\d+)`, "m").exec(info)?.[1] ?? 0);
  return {
    held: await redis!.dbSize(),
    bytes: field("used_memory"),
    hits: field("keyspace_hits"),
    misses: field("keyspace_misses"),
    expired: field("expired_keys"),
    evicted: field("evicted_keys"),
  };
}
